"""Defences inside one aggregation (eq. 8 or eq. 9), and the record of what they decided.

`screened` passes each incoming model through the norm bound against the tier's reference,
streaming; `robust_combine` replaces the weighted mean by a coordinate-wise trimmed mean or median
(robust.py has the maths). rounds.py calls both; every clip, refusal and robust aggregation becomes a
`DefenceEvent`, and `defence_summary` makes a round's record for results.json and summary.json.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping, Sequence

import torch

from mtf_grasp.federated.audit import AUDIT_MISMATCH, MEMBER_MISSING
from mtf_grasp.federated.robust import BoundReason, bound_update, robust_nova, robust_trim, trimmed_mean

if TYPE_CHECKING:   # both import this module
    from mtf_grasp.federated.config import DefenceConfig
    from mtf_grasp.federated.rounds import ModelUpdate

State = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class DefenceEvent:
    """One decision of a defence: a norm-bound verdict on one model (`reason` a robust.BoundReason
    other than 'within', with ‖Δ‖ and B), or one robust aggregation (`reason` its aggregator, cutting
    `trimmed` of `models` values at each end)."""

    tier: str                     # 'cluster' (at a coordinator) or 'server'
    by: str                       # who aggregated: the coordinator's id or 'server'
    reason: str
    robot_id: str = ''
    norm: float | None = None
    bound: float | None = None
    trimmed: int | None = None
    models: int | None = None


REFUSED = ('norm_exceeded', 'non_finite')
IMPLAUSIBLE = 'implausible_profile'


def ruled_out(events: Iterable[DefenceEvent], *, top_level: Sequence[str]) -> set[str]:
    """Robots a round's decisions keep from the top level from the next round on: coordinators the
    receipts or audits caught, and coordinators whose cluster model the server refused (a poisoned
    seed or a forged aggregate; demoted, the robot's updates meet an honest coordinator's bound)."""
    return {e.robot_id for e in events if e.reason in (AUDIT_MISMATCH, MEMBER_MISSING)
            or (e.tier == 'server' and e.reason in REFUSED and e.robot_id in top_level)}


def event_record(event: DefenceEvent) -> dict:
    """A DefenceEvent as a JSON-ready dict, without its empty fields."""
    return {k: v for k, v in asdict(event).items() if v is not None}


def defence_summary(records: Sequence[dict]) -> dict:
    """One round's record from its events (`event_record`s): how many models the norm bound clipped
    and refused, how many robots' profile claims failed, how many coordinators the receipts and
    audits caught (audit.py), and every decision."""
    return {'clipped': sum(r['reason'] == 'clipped' for r in records),
            'rejected': sum(r['reason'] in REFUSED for r in records),
            'implausible': sum(r['reason'] == IMPLAUSIBLE for r in records),
            'audit_mismatch': sum(r['reason'] == AUDIT_MISMATCH for r in records),
            'member_missing': sum(r['reason'] == MEMBER_MISSING for r in records),
            'events': list(records)}


def recorder(events: list[DefenceEvent] | None, *, tier: str, by: str) -> Callable[..., None]:
    """record(**fields) appends a DefenceEvent of `tier` and `by` to `events` (a no-op without a list)."""
    if events is None:
        return lambda **fields: None
    return lambda **fields: events.append(DefenceEvent(tier=tier, by=by, **fields))


def screened(updates: Iterable[ModelUpdate], *, defences: DefenceConfig | None, reference: State | None,
             tier: str, record: Callable[..., None]) -> Iterator[ModelUpdate]:
    """The updates the norm bound of `tier` ('cluster' or 'server') lets through (clipped ones
    clipped), one at a time; every clip and refusal is recorded with its reason. Everything passes
    when no bound is configured."""
    bound = defences.norm_bound.bound(tier) if defences is not None else None
    if bound is None:
        yield from updates
        return
    if reference is None:
        raise ValueError("a norm bound needs the tier's reference model")
    limit = bound.limit(reference)
    for update in updates:
        verdict = bound_update(update.state, reference, bound=bound, limit=limit)
        if verdict.reason is not BoundReason.WITHIN:
            record(reason=str(verdict.reason), robot_id=update.robot_id, norm=verdict.norm, bound=verdict.bound)
        if verdict.accepted:
            yield replace(update, state=verdict.state)


def robust_combine(updates: list[ModelUpdate], *, base: str, reference: State | None, defences: DefenceConfig,
                    record: Callable[..., None]):
    """Coordinate-wise trimmed mean or median of the states ('avg') or of FedNova's normalised
    directions and step counts ('nova'); holds all k models: O(k·|θ|)."""
    if not updates:
        raise ValueError('no updates to aggregate')
    trim = robust_trim(len(updates), aggregator=defences.aggregator, fraction=defences.trim_fraction)
    record(reason=defences.aggregator, trimmed=trim, models=len(updates))
    samples = sum(u.sample_count for u in updates)
    if base == 'nova':
        state, steps = robust_nova(reference, [(u.state, u.local_steps) for u in updates], trim=trim)
    else:
        state = trimmed_mean((u.state for u in updates), trim=trim)
        steps = sum(u.sample_count * u.local_steps for u in updates) / samples
    return updates[0], state, samples, steps
