"""The study runner: every (variant, method, seed) of a study on the same partitions, initial
models and test split per seed, run until the global model plateaus, in worker processes.

Each finished run is stored as `OUT/runs/VARIANT/METHOD/seed_S.json` (written whole, then renamed),
so a rerun skips it and Ctrl-C loses at most the runs in flight. A stored run records the hash of
the config it ran; a run of another config in the same OUT is an error, never silently mixed in.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from mtf_grasp.configfile import from_mapping, load_yaml
from mtf_grasp.errors import InputError
from mtf_grasp.federated.config import experiment_from_mapping, load_experiment_mapping, merge_mappings
from mtf_grasp.federated.stopping import Plateau

# Every run is compared with FedAvg of the baseline variant; these methods also with their own base.
OWN_BASELINE = {'mtf_nova': 'fednova'}


@dataclass(frozen=True)
class Variant:
    methods: list[str]
    overrides: dict[str, Any] = field(default_factory=dict)   # merged over the experiment mapping


@dataclass(frozen=True)
class Preset:
    overrides: dict[str, Any] = field(default_factory=dict)   # merged over the experiment mapping
    plateau: Plateau = field(default_factory=Plateau)


@dataclass(frozen=True)
class StudyConfig:
    name: str
    experiment: str                   # the experiment YAML (relative to the study file)
    variants: dict[str, Variant]
    presets: dict[str, Preset]
    baseline_variant: str = 'baselines'

    def __post_init__(self):
        if self.baseline_variant not in self.variants:
            raise ValueError(f'baseline_variant {self.baseline_variant!r} is not a variant '
                             f'(variants: {", ".join(self.variants)})')
        if 'fedavg' not in self.variants[self.baseline_variant].methods:
            raise ValueError(f'variant {self.baseline_variant!r} must run fedavg: every run is compared with it')


@dataclass(frozen=True)
class Job:
    variant: str
    method: str
    seed: int
    mapping: dict                     # the experiment mapping of this variant and preset
    plateau: Plateau
    source: str
    config_sha: str

    @property
    def key(self) -> str:
        return f'{self.variant}/{self.method}/seed_{self.seed}'


def load_study(path: str | Path) -> tuple[StudyConfig, dict]:
    """(study config, base experiment mapping) from a study YAML; errors name the file and field."""
    path = Path(path)
    study = from_mapping(StudyConfig, load_yaml(path), str(path))
    base = load_experiment_mapping((path.parent / study.experiment).resolve())
    base.pop('quick', None)
    return study, base


def parse_seeds(text: str) -> list[int]:
    """'0-4' -> [0, 1, 2, 3, 4]; '0,2,5' -> [0, 2, 5]; InputError otherwise."""
    seeds: list[int] = []
    try:
        for part in text.split(','):
            low, _, high = part.partition('-')
            seeds.extend(range(int(low), int(high or low) + 1))
    except ValueError:
        raise InputError(f"--seeds {text!r}: expected A-B or a comma list, e.g. 0-4") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise InputError(f'--seeds {text!r}: give each seed once')
    return seeds


def plan_jobs(study: StudyConfig, base: dict, *, preset: str, seeds: list[int], source: str,
              overrides: dict | None = None) -> list[Job]:
    """One job per (variant, method, seed), seeds outermost so a worker reuses its partition."""
    if preset not in study.presets:
        raise InputError(f'{source}: no preset {preset!r} (presets: {", ".join(study.presets)})')
    chosen = study.presets[preset]
    jobs = []
    for name, variant in study.variants.items():
        mapping = merge_mappings(merge_mappings(merge_mappings(base, chosen.overrides), variant.overrides), overrides or {})
        mapping['methods'] = list(variant.methods)
        experiment_from_mapping(mapping, f'{source} (variant {name})')   # fail now, not in a worker
        sha = hashlib.sha256(json.dumps([mapping, asdict(chosen.plateau)], sort_keys=True).encode()).hexdigest()
        jobs += [Job(variant=name, method=m, seed=s, mapping=mapping, plateau=chosen.plateau, source=source,
                     config_sha=sha[:16]) for s in seeds for m in variant.methods]
    return sorted(jobs, key=lambda job: job.seed)


def run_path(out: Path, job: Job) -> Path:
    return out / 'runs' / job.variant / job.method / f'seed_{job.seed}.json'


def stored_run(out: Path, job: Job) -> dict | None:
    """The stored result of `job`, or None; InputError when OUT holds that run for another config."""
    path = run_path(out, job)
    if not path.exists():
        return None
    run = json.loads(path.read_text())
    if run.get('config_sha') != job.config_sha:
        raise InputError(f'{path} was run with another config (sha {run.get("config_sha")}, now '
                         f'{job.config_sha}): use a new --out or delete that run')
    return run


_CACHE: dict[str, Any] = {}   # per worker process: the open dataset and the last seed's workload


def run_job(job: Job) -> dict:
    """Run one job (in a worker process) and return its result; the parent stores it."""
    import torch

    from mtf_grasp.federated.experiment import run_method
    from mtf_grasp.federated.workload import prepare_workload
    from mtf_grasp.grasping import open_dataset
    from mtf_grasp.grasping.device import describe_machine

    config = experiment_from_mapping(job.mapping, job.source, seed=job.seed)
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    data_key = json.dumps([asdict(config.data), asdict(config.model)], sort_keys=True)
    if _CACHE.get('data_key') != data_key:
        _CACHE.clear()
        _CACHE.update(data_key=data_key, dataset=open_dataset(config.data.root, spec=config.model,
                                                             augment=config.data.augment))
    workload_key = json.dumps([asdict(config.partition), config.seed], sort_keys=True)
    if _CACHE.get('workload_key') != workload_key:
        _CACHE.update(workload_key=workload_key, workload=prepare_workload(config, dataset=_CACHE['dataset']))
    result = run_method(job.method, config=config, workload=_CACHE['workload'], plateau=job.plateau)
    curve = result['accuracy_per_round']
    return {'variant': job.variant, 'method': job.method, 'seed': job.seed, 'config_sha': job.config_sha,
            'score': job.plateau.score(curve), 'final_accuracy': curve[-1], 'rounds': len(curve),
            'accuracy_per_round': curve, 'per_robot_accuracy': result['per_robot_accuracy'],
            'parameter_bytes_per_round': [r['parameter_bytes'] for r in result['bytes_per_round']],
            'transfers_per_round': [r['transfers'] for r in result['bytes_per_round']],
            'params': result['params'], 'seconds': result['seconds'],
            'machine': describe_machine(config.training.device, config.training.precision),
            'test_samples': len(_CACHE['workload'].test_indices),
            'train_samples': sum(len(v) for v in _CACHE['workload'].indices.values())}


def store_run(out: Path, job: Job, run: dict) -> None:
    path = run_path(out, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix('.json.partial')
    partial.write_text(json.dumps(run, indent=1) + '\n')
    os.replace(partial, path)


def run_jobs(jobs: list[Job], out: Path, *, workers: int, on_done: Callable[[Job, dict], None]) -> None:
    """Run the jobs not yet stored in `out`; `workers` processes (1: in this process)."""
    todo = [job for job in jobs if stored_run(out, job) is None]
    if not todo:
        return
    if workers <= 1:
        for job in todo:
            run = run_job(job)
            store_run(out, job, run)
            on_done(job, run)
        return
    context = multiprocessing.get_context('spawn')   # no inherited torch/OpenMP state in the workers
    pool = context.Pool(min(workers, len(todo)))
    try:
        for job, run in pool.imap_unordered(_run_keyed, todo):
            store_run(out, job, run)
            on_done(job, run)
        pool.close()
    except BaseException:
        pool.terminate()   # Ctrl-C or a failed run: stop the runs in flight; stored ones stay
        raise
    finally:
        pool.join()


def _run_keyed(job: Job) -> tuple[Job, dict]:
    return job, run_job(job)
