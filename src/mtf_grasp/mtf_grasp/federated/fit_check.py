"""Fit check: a coordinator judges its members' models on its own data.

A top-level robot holds data it trusts (its own), and the models of its cluster all started from
its seed. Each member model's mean training loss on that data (`grasp_loss`), as the norm bound left
the model (a ×100 update clipped to the bound is judged as the longer honest update it then is), is
compared with the median of the other members' losses: a model that fits the coordinator's data
more than `ratio` times worse than its peers has learnt something they did not (wrong labels: a
member trained on rotated grasps misses every angle), and is refused. Judged against peers rather
than against the seed or the global model, because honest members also drift from the
coordinator's data as they fine-tune on their own, by similar amounts. A non-finite loss is refused
outright.

A clipped member enters its peers' references with its loss as sent, not as bounded: the bound
pulls a model toward the seed, which was trained on this data, so the bounded model fits it better
than anything its robot trained, and an honest partner of a pair was refused against it (round 1
of 5 of the cpu preset's 75 runs before this rule). What remains of that choice: a member whose
model fits the coordinator's data unusually well as sent (the seed sent back unchanged, or noise
around it) lowers its peers' reference and can get an honest partner refused (seen twice in the
cpu preset's noise runs).

At most one member of two to four, fewer than half of more, is refused (the worst ratios first), so
the check can only take out a minority of a cluster, and a lone member is not judged. The server has
none of the coordinator's data: an audit cannot recompute the check, so it accepts an aggregate that
leaves out any such minority (audit.py), and that is all a lying coordinator gains from it.
Measured in docs/security-measurements.md.
"""
from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import torch

from mtf_grasp.grasping.model_file import state_to_model
from mtf_grasp.grasping.model_spec import ModelSpec
from mtf_grasp.grasping.train_loop import mean_loss


@dataclass(frozen=True)
class FitVerdict:
    references: list[float | None]   # per member: the median of the other members' losses as sent
    refused: list[int]               # indices of the refused members, ascending


def most_refused(members: int) -> int:
    """How many of `members` models the fit check may refuse: one of 2 to 4, fewer than half of more."""
    return 0 if members < 2 else max(1, (members - 1) // 2)


def fit_check(losses: Sequence[float], *, ratio: float, as_sent: Sequence[float] | None = None) -> FitVerdict:
    """Which of the members' `losses` (each a model's mean loss on the coordinator's data) exceed
    `ratio` times the median of the others' losses `as_sent` (a clipped member's loss before the
    bound; `losses` when not given; a non-finite loss always exceeds), at most `most_refused(k)` of
    them, the worst ratios first."""
    if not ratio > 1:
        raise ValueError(f'the fit ratio must exceed 1, got {ratio}')
    k = len(losses)
    if as_sent is not None and len(as_sent) != k:
        raise ValueError(f'{len(as_sent)} losses as sent for {k} members')
    if k < 2:
        return FitVerdict(references=[None] * k, refused=[])
    finite = _finite(losses)
    peers = finite if as_sent is None else _finite(as_sent)
    references = [statistics.median(peers[:i] + peers[i + 1:]) for i in range(k)]

    def excess(i: int) -> float:
        return math.inf if finite[i] == math.inf else finite[i] / references[i]

    over = sorted((i for i in range(k) if excess(i) > ratio), key=excess, reverse=True)
    return FitVerdict(references=references, refused=sorted(over[:most_refused(k)]))


def _finite(losses: Sequence[float]) -> list[float]:
    """`losses` with every non-finite value (NaN included) as +inf, so that medians order them last."""
    return [x if math.isfinite(x) else math.inf for x in losses]


def possible_refusals(members: Sequence[str]) -> Iterator[frozenset[str]]:
    """Every set of `members` a fit check could have refused, the empty set first: what an audit,
    which cannot rerun the check, accepts a coordinator to have left out."""
    for size in range(most_refused(len(members)) + 1):
        for left_out in itertools.combinations(members, size):
            yield frozenset(left_out)


def loss_on(spec: ModelSpec, dataset, indices: Sequence[int], *,
            device: str = 'cpu') -> Callable[[Mapping[str, torch.Tensor]], float]:
    """A model state's mean loss on `indices` of `dataset` (the coordinator's own data, as it trains
    on it), computed on the `device` it trains on."""
    indices = list(indices)
    return lambda state: mean_loss(state_to_model(dict(state), spec), dataset, indices=indices, device=device)
