"""Splitting a dataset among robots for experiments: quantity skew and class-based non-IID.

A Partition names samples (not indices), so a manifest stays valid for any loader that reads
the same dataset root; it is deterministic from its seed and saved as JSON:
{"dataset", "seed", "method", "settings", "robots": {"robot_0": [names...]}, "test": [names...]}.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from mtf_grasp.configfile import load_json_object
from mtf_grasp.errors import InputError
from mtf_grasp.federated.profiles import robot_ids

_MAX_DRAWS = 10_000


@dataclass(frozen=True)
class Partition:
    """Which samples each robot holds and which form the shared test set."""

    dataset: str
    seed: int
    method: str
    robots: dict[str, list[str]]
    test: list[str]
    settings: dict = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        return {robot: len(names) for robot, names in self.robots.items()}

    def to_json(self) -> dict:
        return {'dataset': self.dataset, 'seed': self.seed, 'method': self.method,
                'settings': self.settings, 'robots': self.robots, 'test': self.test}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + '\n')

    @classmethod
    def load(cls, path: str | Path) -> 'Partition':
        """Read a manifest; a missing file, bad JSON or a malformed field is an InputError."""
        path = Path(path)
        data = load_json_object(path, missing='no such partition manifest')
        for key, kind in (('dataset', str), ('seed', int), ('method', str), ('robots', dict), ('test', list)):
            if not isinstance(data.get(key), kind):
                raise InputError(f'{path}: field {key!r} missing or not a {kind.__name__}')
        seen: dict[str, str] = {}
        for owner, names in [*data['robots'].items(), ('test', data['test'])]:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise InputError(f'{path}: robots.{owner} must be a list of sample names')
            for name in names:
                if name in seen:
                    raise InputError(f'{path}: sample {name!r} is in both {seen[name]} and {owner}')
                seen[name] = owner
        return cls(dataset=data['dataset'], seed=data['seed'], method=data['method'],
                   robots=data['robots'], test=data['test'], settings=data.get('settings', {}))

    def indices(self, dataset, robot_id: str) -> list[int]:
        """Dataset indices of `robot_id`'s samples ('test' for the test set), via `dataset.index_of`."""
        if robot_id == 'test':
            names = self.test
        elif robot_id in self.robots:
            names = self.robots[robot_id]
        else:
            raise InputError(f'partition has no robot {robot_id!r} (robots: {", ".join(self.robots)})')
        try:
            return [dataset.index_of(name) for name in names]
        except KeyError as exc:
            raise InputError(f'partition sample {exc} is not in dataset {self.dataset}') from None


def split_test(names: Sequence[str], *, fraction: float, seed: int, count: int = 0) -> tuple[list[str], list[str]]:
    """Seeded split into (training pool, test set) with round(fraction·N) test samples, or exactly
    `count` when it is positive."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f'test fraction must lie in [0, 1), got {fraction}')
    if not 0 <= count < len(names):
        raise ValueError(f'{count} test samples leave none of {len(names)} for training')
    ordered = sorted(names)
    order = np.random.default_rng([seed, 0]).permutation(len(ordered))
    shuffled = [ordered[i] for i in order]
    cut = count or round(fraction * len(shuffled))
    return shuffled[cut:], sorted(shuffled[:cut])


def _counts(proportions: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to `total`, largest remainders first (ties: lower robot index)."""
    exact = proportions / proportions.sum() * total
    counts = np.floor(exact).astype(int)
    remainder = exact - counts
    for index in sorted(range(len(counts)), key=lambda i: (-remainder[i], i))[:total - counts.sum()]:
        counts[index] += 1
    return counts


def _training_pool(names, *, test_fraction: float, seed: int, max_train: int, test_samples: int):
    pool, test = split_test(names, fraction=test_fraction, seed=seed, count=test_samples)
    # The pool is in seeded random order: its head is a random subset (small quick runs keep the full test set).
    return (pool[:max_train] if max_train else pool), test


def quantity_skew(names: Sequence[str], *, robots: int, beta: float, seed: int, min_samples: int = 10,
                  test_fraction: float = 0.2, test_samples: int = 0, max_train: int = 0,
                  dataset: str = '') -> Partition:
    """Robot shares ~ Dirichlet(β·1ₙ), redrawn until every robot has at least `min_samples`.

    The test set is `test_fraction` of all names (or `test_samples` of them); robots share the rest,
    or a random `max_train` of it.
    """
    pool, test = _training_pool(names, test_fraction=test_fraction, seed=seed, max_train=max_train,
                                test_samples=test_samples)
    if robots * min_samples > len(pool):
        raise ValueError(f'{len(pool)} training samples cannot give {robots} robots {min_samples} each')
    rng = np.random.default_rng([seed, 1])
    for _ in range(_MAX_DRAWS):
        counts = _counts(rng.dirichlet(np.full(robots, beta)), len(pool))
        if counts.min() >= min_samples:
            break
    else:
        raise ValueError(f'no Dirichlet(β={beta}) draw gave every robot {min_samples} samples')
    shuffled = [pool[i] for i in rng.permutation(len(pool))]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    split = {rid: sorted(shuffled[bounds[r]:bounds[r + 1]]) for r, rid in enumerate(robot_ids(robots))}
    return Partition(dataset=dataset, seed=seed, method='quantity_skew', robots=split, test=test,
                     settings={'beta': beta, 'min_samples': min_samples, 'test_fraction': test_fraction,
                               'test_samples': test_samples, 'max_train': max_train})


def class_noniid(names: Sequence[str], labels: Sequence[int], *, robots: int, seed: int,
                 classes_per_robot: int | None = None, alpha: float | None = None, min_samples: int = 10,
                 test_fraction: float = 0.2, test_samples: int = 0, max_train: int = 0,
                 dataset: str = '') -> Partition:
    """Class-based non-IID split; give exactly one of:

    - `classes_per_robot` k: robot r holds classes perm[(r·k + i) mod K], i < k, so every class is
      held when n·k ≥ K; each class's samples are shared evenly among the robots holding it;
    - `alpha`: each class's samples are shared among robots by proportions ~ Dirichlet(α·1ₙ)
      (small α: each robot sees few classes), redrawn until every robot has `min_samples`.
    """
    if (classes_per_robot is None) == (alpha is None):
        raise ValueError('give exactly one of classes_per_robot and alpha')
    label_of = dict(zip(names, labels, strict=True))
    pool, test = _training_pool(names, test_fraction=test_fraction, seed=seed, max_train=max_train,
                                test_samples=test_samples)
    classes = sorted({label_of[n] for n in pool})
    by_class = {c: [n for n in pool if label_of[n] == c] for c in classes}
    rng = np.random.default_rng([seed, 2])
    ids = robot_ids(robots)
    for _ in range(_MAX_DRAWS):
        split: dict[str, list[str]] = {rid: [] for rid in ids}
        if classes_per_robot is not None:
            order = [classes[i] for i in rng.permutation(len(classes))]
            holders = {c: [] for c in classes}
            for r in range(robots):
                for i in range(classes_per_robot):
                    holders[order[(r * classes_per_robot + i) % len(order)]].append(r)
            shares = {c: np.bincount(h, minlength=robots) / len(h) if h else np.zeros(robots)
                      for c, h in holders.items()}
        else:
            shares = {c: rng.dirichlet(np.full(robots, alpha)) for c in classes}
        for c in classes:
            if not shares[c].any():
                continue  # no robot drew this class (n·k < K): its samples stay unused
            members = [by_class[c][i] for i in rng.permutation(len(by_class[c]))]
            bounds = np.concatenate([[0], np.cumsum(_counts(shares[c], len(members)))])
            for r, rid in enumerate(ids):
                split[rid].extend(members[bounds[r]:bounds[r + 1]])
        if min(len(v) for v in split.values()) >= min_samples:
            break
        if classes_per_robot is not None:
            raise ValueError(f'{classes_per_robot} classes per robot leave a robot with fewer than '
                             f'{min_samples} samples')
    else:
        raise ValueError(f'no Dirichlet(α={alpha}) draw gave every robot {min_samples} samples')
    settings = {'classes_per_robot': classes_per_robot, 'alpha': alpha, 'min_samples': min_samples,
                'test_fraction': test_fraction, 'test_samples': test_samples, 'max_train': max_train}
    return Partition(dataset=dataset, seed=seed, method='class_noniid',
                     robots={rid: sorted(v) for rid, v in split.items()}, test=test, settings=settings)
