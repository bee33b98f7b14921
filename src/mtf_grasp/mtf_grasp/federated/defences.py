"""Defences inside one aggregation (eq. 8 or eq. 9), and the record of what they decided.

`capped` holds each model to the samples its senders registered (always on: a member's at its
coordinator, each model the server receives at the server); `screened` passes each incoming model
through the norm bound against the tier's reference, streaming; `fitted` drops the members' models
(as bounded) that fit the coordinator's own data far worse than their peers' (fit_check.py);
`seeds_refused` names the clusters whose seeds fit their members' data far worse than the other
clusters' seeds fit theirs (seed_check.py, at the server); `off_step` those whose models follow the
fleet's last step far less than the others' (step_check.py, at the server); `directed` drops the
models whose update points away from the others'; `robust_combine` replaces the weighted mean by a
coordinate-wise trimmed mean or median (robust.py has the maths). rounds.py calls them in this
order, but `seeds_refused` and `off_step`, which the round's runners call before eq. 9
(simulation.py, and the fleet's seed_reports.py and fl_server.py); every cap, fit, seed or step
check, clip, refusal, direction check and robust aggregation becomes a `DefenceEvent`, and
`defence_summary` makes a round's record for results.json and summary.json.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Callable, Collection, Iterable, Iterator, Mapping, Sequence

import torch

from mtf_grasp.federated.audit import AUDIT_MISMATCH, MEMBER_MISSING
from mtf_grasp.federated.fit_check import fit_check
from mtf_grasp.federated.robust import (BoundReason, bound_update, direction_check, robust_nova, robust_trim,
                                       step_alignment, trimmed_mean)
from mtf_grasp.federated.seed_check import seed_check
from mtf_grasp.federated.step_check import step_check

if TYPE_CHECKING:   # both import this module
    from mtf_grasp.federated.config import DefenceConfig
    from mtf_grasp.federated.rounds import ModelUpdate

State = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class DefenceEvent:
    """One decision of a defence: a norm-bound verdict on one model (`reason` a robust.BoundReason
    other than 'within', with ‖Δ‖ and B), a direction-check refusal ('misdirected', with the cosine
    it was judged by and its threshold as `bound`: robust.Misdirected), what one direction check
    measured ('direction_checked': every judged model's cosine, the threshold as `bound`, 1/√d as
    `unit`, and for a pair or a lone member beside the seed while the fleet's last step was known,
    each one's cosine with that step), what one fit check measured ('fit_checked': each member's
    loss on the coordinator's data, a clipped member's also as sent, the ratio as `bound`), a
    fit-check refusal ('poor_fit', with the model's loss and the loss it had to stay under as
    `bound`), a capped weight ('weight_capped'), or
    one robust aggregation (`reason` its aggregator, cutting `trimmed` of `models` values at each end),
    what one seed check measured ('seed_checked': each judged cluster's value as `losses` and what it
    was compared with as `references`, keyed by its coordinator, the ratio as `bound`) or a seed-check
    refusal ('poor_seed': the coordinator, its cluster's value as `loss` and what it had to stay under
    as `bound`), what one step check measured
    ('step_checked': each cluster's alignment with the last step as `cosines`, the ratio as `bound`),
    a cluster lagging for the first time ('lagging_step') or a step-check refusal ('off_step'): the
    coordinator, its alignment as `cosine` and what it had to reach as `bound`."""

    tier: str                     # 'cluster' (at a coordinator) or 'server'
    by: str                       # who aggregated: the coordinator's id or 'server'
    reason: str
    robot_id: str = ''
    norm: float | None = None
    bound: float | None = None
    trimmed: int | None = None
    models: int | None = None
    cosine: float | None = None
    claimed: int | None = None    # weight_capped: the sample count the model claimed (`bound`: the ceiling)
    cosines: dict[str, float] | None = None   # direction_checked: robot id -> leave-one-out cosine;
    #                                           step_checked: coordinator -> alignment (cosine·√d)
    unit: float | None = None     # direction_checked: 1/√d, the spread of a random direction's cosine
    step_cosines: dict[str, float] | None = None   # direction_checked: robot id -> cosine with the last step
    loss: float | None = None     # poor_fit: the model's loss on the coordinator's data; poor_seed: the cluster's value
    losses: dict[str, float] | None = None   # fit_checked: robot id -> loss on the coordinator's data;
    #                                          seed_checked: coordinator -> its cluster's value
    as_sent: dict[str, float] | None = None  # fit_checked: clipped member -> its loss before the bound
    references: dict[str, float] | None = None   # seed_checked: coordinator -> its value's reference (the
    #                                              median of the other clusters' upper medians)

    def detail(self) -> str:
        """What a refusal measured, for logs and fleet status."""
        if self.reason in (OFF_STEP, LAGGING_STEP):
            return f"update follows the fleet's last step by {self.cosine:.3g}/√d, below {self.bound:.3g}/√d"
        if self.cosine is not None:
            return f'update cosine {self.cosine:.4g} with the others below {self.bound:.4g}'
        if self.reason == POOR_SEED:
            return f"seed loss {self.loss:.4g} on its members' data above {self.bound:.4g}"
        if self.loss is not None:
            return f"loss {self.loss:.4g} on the coordinator's data above {self.bound:.4g}"
        return f'update norm {self.norm:.4g} against a bound of {self.bound:.4g}'


WEIGHT_CAPPED = 'weight_capped'
MISDIRECTED = 'misdirected'
DIRECTION_CHECKED = 'direction_checked'
POOR_FIT = 'poor_fit'
FIT_CHECKED = 'fit_checked'
POOR_SEED = 'poor_seed'
SEED_CHECKED = 'seed_checked'
OFF_STEP = 'off_step'
LAGGING_STEP = 'lagging_step'
STEP_CHECKED = 'step_checked'
REFUSED = ('norm_exceeded', 'non_finite', MISDIRECTED, POOR_FIT, POOR_SEED, OFF_STEP)
IMPLAUSIBLE = 'implausible_profile'


def ruled_out(events: Iterable[DefenceEvent], *, top_level: Sequence[str]) -> set[str]:
    """Robots a round's decisions keep from the top level from the next round on: coordinators the
    receipts or audits caught, and coordinators whose cluster model the server refused (a poisoned
    seed, by the norm bound, the direction check, the seed or step check, or a forged aggregate;
    demoted, the robot's updates meet an honest coordinator's bound)."""
    return {e.robot_id for e in events if e.reason in (AUDIT_MISMATCH, MEMBER_MISSING)
            or (e.tier == 'server' and e.reason in REFUSED and e.robot_id in top_level)}


def event_record(event: DefenceEvent) -> dict:
    """A DefenceEvent as a JSON-ready dict, without its empty fields."""
    return {k: v for k, v in asdict(event).items() if v is not None}


def defence_summary(records: Sequence[dict]) -> dict:
    """One round's record from its events (`event_record`s): how many models the norm bound clipped
    and the defences refused, how many robots' profile claims failed, how many coordinators the
    receipts and audits caught (audit.py), how many models claimed more samples than registered, and
    every decision."""
    return {'clipped': sum(r['reason'] == 'clipped' for r in records),
            'rejected': sum(r['reason'] in REFUSED for r in records),
            'implausible': sum(r['reason'] == IMPLAUSIBLE for r in records),
            'audit_mismatch': sum(r['reason'] == AUDIT_MISMATCH for r in records),
            'member_missing': sum(r['reason'] == MEMBER_MISSING for r in records),
            'weight_capped': sum(r['reason'] == WEIGHT_CAPPED for r in records),
            'events': list(records)}


def recorder(events: list[DefenceEvent] | None, *, tier: str, by: str) -> Callable[..., None]:
    """record(**fields) appends a DefenceEvent of `tier` and `by` to `events` (a no-op without a list)."""
    if events is None:
        return lambda **fields: None
    return lambda **fields: events.append(DefenceEvent(tier=tier, by=by, **fields))


def weight_ceilings(plan) -> dict[str, int]:
    """The most samples each model the server receives in `plan`'s round may weigh in eq. 9: in a flat
    round a robot's registered count (`plan.registered`); a cluster model, its coordinator's plus its
    planned members'. Robots the plan holds no count for are not capped."""
    registered = plan.registered
    if not plan.tiered:
        return {robot: registered[robot] for robot in plan.robot_ids if robot in registered}
    return {c: registered[c] + sum(registered[m] for m in plan.clusters[c]) for c in plan.top_level
            if c in registered and all(m in registered for m in plan.clusters[c])}


def capped(updates: Iterable[ModelUpdate], *, ceilings: Mapping[str, int] | None,
           record: Callable[..., None]) -> Iterator[ModelUpdate]:
    """`updates`, each weighing at most its sender's ceiling (recorded when it claimed more)."""
    for update in updates:
        ceiling = ceilings.get(update.robot_id) if ceilings is not None else None
        if ceiling is not None and update.sample_count > ceiling:
            record(reason=WEIGHT_CAPPED, robot_id=update.robot_id, claimed=update.sample_count, bound=ceiling)
            update = replace(update, sample_count=ceiling)
        yield update


def judges_fit(defences: DefenceConfig | None, fit_loss: Callable[[State], float] | None) -> bool:
    """Whether an aggregator runs the fit check: it is configured and the aggregator has the data
    (`fit_loss`; an audit has none)."""
    return defences is not None and defences.fit_ratio is not None and fit_loss is not None


def fitted(members: Iterable[ModelUpdate], *, defences: DefenceConfig | None,
           fit_loss: Callable[[State], float] | None, record: Callable[..., None],
           as_sent: Mapping[str, State] | None = None) -> Iterable[ModelUpdate]:
    """The members' models the fit check keeps (fit_check.py: `fit_loss`, a model's mean loss on the
    coordinator's own data; `as_sent`, a clipped member's model before the bound, read once `members`
    is consumed), the losses and each refusal recorded; `members` untouched unless `judges_fit`.
    Holds the k models and the clipped ones as sent: O(k·|θ|)."""
    if not judges_fit(defences, fit_loss):
        return members
    members = list(members)
    if len(members) < 2:   # a lone member is not judged
        return members
    losses = [fit_loss(u.state) for u in members]
    sent = {u.robot_id: fit_loss(as_sent[u.robot_id]) for u in members if as_sent and u.robot_id in as_sent}
    verdict = fit_check(losses, ratio=defences.fit_ratio,
                        as_sent=[sent.get(u.robot_id, x) for u, x in zip(members, losses)])
    record(reason=FIT_CHECKED, bound=defences.fit_ratio, losses={u.robot_id: x for u, x in zip(members, losses)},
           as_sent=sent or None)
    for i in verdict.refused:
        record(reason=POOR_FIT, robot_id=members[i].robot_id, loss=losses[i],
               bound=defences.fit_ratio * verdict.references[i])
    return [u for i, u in enumerate(members) if i not in verdict.refused]


def seeds_refused(reports: Mapping[str, Sequence[float]], *, defences: DefenceConfig | None,
                  record: Callable[..., None]) -> set[str]:
    """The coordinators whose cluster models the seed check refuses (seed_check.py; `reports`:
    coordinator -> its members' losses of its seed on their own data), what it measured and each
    refusal recorded; none when the check is off."""
    if defences is None or defences.seed_ratio is None:
        return set()
    verdict = seed_check(reports, ratio=defences.seed_ratio)
    if verdict.references:
        record(reason=SEED_CHECKED, bound=defences.seed_ratio, losses=verdict.values,
               references=verdict.references)
    for coordinator in verdict.refused:
        record(reason=POOR_SEED, robot_id=coordinator, loss=verdict.values[coordinator],
               bound=defences.seed_ratio * verdict.references[coordinator])
    return set(verdict.refused)


def off_step(clusters: Sequence[ModelUpdate], *, defences: DefenceConfig | None, reference: State,
             last_step: State | None, lagged: Collection[str], record: Callable[..., None]) -> set[str]:
    """The coordinators whose cluster models (updates from `reference`, the round's global model) the
    step check refuses (step_check.py; `lagged`: those whose clusters lagged in the round before,
    `lagging_in` its events), what it measured and each lagging cluster recorded; none when the
    check is off or the fleet's last step is unknown."""
    if defences is None or defences.step_ratio is None or last_step is None:
        return set()
    alignments = {c.robot_id: step_alignment(c.state, reference, last_step) for c in clusters}
    verdict = step_check(alignments, ratio=defences.step_ratio, lagged=lagged)
    if verdict.references:
        record(reason=STEP_CHECKED, bound=defences.step_ratio, cosines=alignments)
    for coordinator in verdict.lagging:
        record(reason=OFF_STEP if coordinator in verdict.refused else LAGGING_STEP, robot_id=coordinator,
               cosine=alignments[coordinator], bound=defences.step_ratio * verdict.references[coordinator])
    return set(verdict.refused)


def lagging_in(events: Iterable[DefenceEvent]) -> frozenset[str]:
    """The coordinators whose clusters a round's step check found lagging (refused or not)."""
    return frozenset(e.robot_id for e in events if e.reason in (LAGGING_STEP, OFF_STEP))


def screened(updates: Iterable[ModelUpdate], *, defences: DefenceConfig | None, reference: State | None,
             tier: str, record: Callable[..., None],
             on_clip: Callable[[ModelUpdate], None] | None = None) -> Iterator[ModelUpdate]:
    """The updates the norm bound of `tier` ('cluster' or 'server') lets through (clipped ones
    clipped, each first shown as sent to `on_clip`), one at a time; every clip and refusal is
    recorded with its reason. Everything passes when no bound is configured."""
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
        if verdict.reason is BoundReason.CLIPPED and on_clip is not None:
            on_clip(update)
        if verdict.accepted:
            yield replace(update, state=verdict.state)


def directed(updates: Iterable[ModelUpdate], *, defences: DefenceConfig | None, reference: State | None,
             record: Callable[..., None], last_step: State | None = None) -> Iterable[ModelUpdate]:
    """The updates the direction check keeps (robust.direction_check, with the fleet's `last_step`
    when the aggregator knows it), what it measured and each refusal recorded; `updates` untouched
    when the check is off. Holds the k models: O(k·|θ|)."""
    if defences is None or defences.direction_z is None:
        return updates
    if reference is None:
        raise ValueError("a direction check needs the tier's reference model")
    updates = list(updates)
    verdict = direction_check([u.state for u in updates], reference, z=defences.direction_z, last_step=last_step)
    if verdict.threshold is not None:
        along = (None if verdict.step_cosines is None else
                 {u.robot_id: c for u, c in zip(updates, verdict.step_cosines) if c is not None})
        record(reason=DIRECTION_CHECKED, bound=verdict.threshold, unit=verdict.unit, step_cosines=along,
               cosines={u.robot_id: c for u, c in zip(updates, verdict.cosines) if c is not None})
    for d in verdict.dropped:
        record(reason=MISDIRECTED, robot_id=updates[d.index].robot_id, cosine=d.cosine, bound=d.threshold)
    gone = {d.index for d in verdict.dropped}
    return [u for i, u in enumerate(updates) if i not in gone]


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
