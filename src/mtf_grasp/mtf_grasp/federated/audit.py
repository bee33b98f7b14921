"""Coordinator accountability: a top-level robot aggregates its whole cluster before the server sees
anything, so the server checks what it can of that work.

- Receipts (`defences.check_members`): the coordinator names every member model it counted; each
  member names the model it sent (in the fleet both as signed sha256 digests). A planned member that
  sent a model the coordinator did not count is `member_missing`.
- Audits (`defences.audit_rate` p): each round each cluster is audited with probability p, drawn from
  the experiment's seed, the round and the coordinator (a coordinator cannot predict it). The server
  fetches the cluster's models (the members' and the coordinator's own, one transfer each: the extra
  bytes of an audit) and recomputes eq. 8 with the same reading and defences. An aggregate that
  differs is `audit_mismatch`; the recomputed aggregate replaces it for the round. A coordinator
  that did not hold the previous round's global model (restarted, or newly top-level) has no last
  step for the direction check's pair tie-breaker, so an aggregate that matches the recomputation
  without it passes too (at worst the pair rule without a tie-breaker, the coordinator's choice).
  The server holds none of the coordinator's data, so it cannot rerun the fit check
  (`defences.fit_ratio`, fit_check.py): an aggregate that matches the recomputation without any set
  of members the check could have refused (a minority) passes too.

A coordinator caught either way is never top-level again (its members are re-assigned by the
next round's plan; defences.ruled_out).
"""
from __future__ import annotations

import random
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

import torch

from mtf_grasp.federated.fit_check import possible_refusals
from mtf_grasp.federated.planning import robot_seed

if TYPE_CHECKING:   # rounds.py imports this module through defences.py
    from mtf_grasp.federated.rounds import ModelUpdate

MEMBER_MISSING = 'member_missing'
AUDIT_MISMATCH = 'audit_mismatch'
# The recomputation runs the coordinator's own code on the same decoded models, so an honest
# aggregate agrees to rounding; a forged one (e.g. scale100) is off by orders of magnitude.
_RELATIVE_TOLERANCE = 1e-4


def audited(*, seed: int, round_index: int, coordinator: str, rate: float) -> bool:
    """Whether the server audits `coordinator`'s cluster in `round_index` (probability `rate`)."""
    if rate <= 0:
        return False
    return random.Random(robot_seed(seed, coordinator, round_index, 'audit')).random() < rate


def missing_members(sent: Iterable[str], counted: Iterable[str]) -> list[str]:
    """Members that sent a model the coordinator's receipt does not count."""
    return sorted(set(sent) - set(counted))


def aggregate_differs(claimed: Mapping[str, torch.Tensor], recomputed: Mapping[str, torch.Tensor],
                      reference: Mapping[str, torch.Tensor]) -> bool:
    """True when `claimed` and `recomputed` differ by more than rounding, relative to the size of the
    recomputed update from `reference` (the round's global model)."""
    gap = change = 0.0
    for name, value in recomputed.items():
        if not value.is_floating_point():
            continue
        gap += float((claimed[name].double() - value.double()).pow(2).sum())
        change += float((value.double() - reference[name].double()).pow(2).sum())
    return gap ** 0.5 > _RELATIVE_TOLERANCE * (change ** 0.5 + 1e-12)


def caught(claimed: Mapping[str, torch.Tensor],
           recompute: Callable[[Mapping | None, frozenset[str]], ModelUpdate | None],
           reference: Mapping[str, torch.Tensor], *, last_step: Mapping | None,
           fit_checked: Sequence[str] = ()) -> ModelUpdate | None:
    """The recomputation (`recompute(last_step, left_out)`, eq. 8 as received without the members
    `left_out`) that replaces a cluster model `claimed` which matches eq. 8 neither with the fleet's
    `last_step` nor without it, nor without any set of the members `fit_checked` that the
    coordinator's fit check could have refused; None when it matches one of them, or when the
    recomputation has nothing to aggregate."""
    honest = recompute(last_step, frozenset())
    if honest is None or not aggregate_differs(claimed, honest.state, reference):
        return None
    steps = (last_step, None) if last_step is not None else (None,)
    for left_out in possible_refusals(fit_checked):
        for step in steps:
            if not left_out and step is last_step:
                continue   # `honest` itself
            other = recompute(step, left_out)
            if other is not None and not aggregate_differs(claimed, other.state, reference):
                return None
    return honest
