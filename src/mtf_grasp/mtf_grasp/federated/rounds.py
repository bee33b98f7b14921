"""The work of one round, as pure pieces shared by the in-process experiment and the ROS fleet.

A robot runs `local_update` (seed training for top-level robots, fine-tuning for low-level ones,
plain local training in flat methods); a tier coordinator runs `cluster_aggregate` (eq. 8) under
the configured reading of what it contributes itself; the server runs `server_aggregate` (eq. 9)
over cluster models (or, in flat methods, over robot updates). Same inputs, same seeds -> the same
floats in any process, on one machine and precision.

Eq. 8 readings (docs/experiments.md discusses them): `tier_aggregate: with_coordinator` averages
the coordinator's own model with its members'; `members_only` averages the members' models alone
(the coordinator's data reaches the cluster through the seed they start from). With
`coordinator_epochs: seed_then_local` the coordinator's own model is the seed trained on to er
epochs after it was sent; with `seed_only` it is the seed itself.

Defences (config `defences:`, robust.py) act inside the two aggregations: each model is bounded
against the tier's reference (at a coordinator the seed its members started from, at the server the
round's global model); at a coordinator the members' models, as bounded, are then judged by how they
fit its own data (fit_check.py); the rest are checked for pointing with the others, then combined by
the mean or a robust rule. Off, the floats are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
import itertools
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping, Sequence

import torch

from mtf_grasp.federated.aggregation import StreamingAverage, StreamingNova, effective_steps
from mtf_grasp.federated.planning import robot_seed
from mtf_grasp.federated.defences import (DefenceEvent, capped, directed, fitted, judges_fit, recorder, robust_combine,
                                          screened)
from mtf_grasp.federated.traffic import SERVER
from mtf_grasp.grasping.train_loop import OptimizerSettings

if TYPE_CHECKING:   # config.py imports this module
    from mtf_grasp.federated.config import DefenceConfig

State = Mapping[str, torch.Tensor]

TIER_AGGREGATES = ('with_coordinator', 'members_only')
COORDINATOR_EPOCHS = ('seed_only', 'seed_then_local')


@dataclass(frozen=True)
class LocalTrainingSettings(OptimizerSettings):
    """How every robot trains locally (the same for all methods of an experiment)."""

    prox_mu: float = 0.0         # FedProx proximal weight μ; 0 turns the term off


@dataclass(frozen=True)
class ModelUpdate:
    """A model trained by `robot_id` (or aggregated by a coordinator) in `round_index`.

    `sample_count` is the aggregation weight; `local_steps` is FedNova's effective step count a,
    counted from the global model of the round (a low-level robot's includes its seed's steps).
    `steps` and `epochs` are the robot's own training in this call (its training report; 0 for
    aggregates), which profile plausibility checks its claimed count against.
    """

    robot_id: str
    state: dict[str, torch.Tensor]
    sample_count: int
    local_steps: float
    round_index: int
    steps: int = 0
    epochs: int = 0


def step_momentum(settings: LocalTrainingSettings) -> float:
    """The momentum FedNova's effective step count (a model's `local_steps`) is computed with."""
    return settings.momentum if settings.optimizer == 'sgd' else 0.0


def local_update(*, global_state: State, spec, dataset, indices: Sequence[int], epochs: int,
                 round_index: int, robot_id: str, settings: LocalTrainingSettings, base_seed: int,
                 prior_steps: float = 0.0, purpose: str = 'train', progress: bool = False) -> ModelUpdate:
    """Train a copy of `global_state` for `epochs` on `indices` of `dataset`.

    `global_state` is the model the robot starts from: the global model, or for a low-level robot
    the seed model, whose own effective steps are passed as `prior_steps`. The FedProx term pulls
    towards that starting model. The seed comes from `robot_seed(base_seed, robot_id, round_index,
    purpose)`: a coordinator that trains on after its seed uses another purpose, hence another order.
    """
    from mtf_grasp.grasping import build_model, train_epochs

    model = build_model(spec)
    model.load_state_dict(global_state)
    stats = train_epochs(
        model, dataset, indices=list(indices), epochs=epochs, lr=settings.lr,
        batch_size=settings.batch_size, seed=robot_seed(base_seed, robot_id, round_index, purpose),
        device=settings.device, optimizer=settings.optimizer, momentum=settings.momentum,
        weight_decay=settings.weight_decay, prox_mu=settings.prox_mu,
        prox_reference=global_state if settings.prox_mu > 0 else None, precision=settings.precision,
        progress=progress)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return ModelUpdate(robot_id=robot_id, state=state, sample_count=len(indices),
                       local_steps=prior_steps + effective_steps(stats.steps, step_momentum(settings)),
                       round_index=round_index, steps=stats.steps, epochs=epochs)


def _peek(updates: Iterable[ModelUpdate]) -> Iterator[ModelUpdate] | None:
    """`updates` as an iterator, or None when there are none (without holding more than the first)."""
    it = iter(updates)
    first = next(it, None)
    return None if first is None else itertools.chain([first], it)


def _check_base(base: str, reference: State | None) -> None:
    if base not in ('avg', 'nova'):
        raise ValueError(f"unknown aggregation base {base!r} (known: 'avg', 'nova')")
    if base == 'nova' and reference is None:
        raise ValueError("base 'nova' needs the round's global state as reference")


def _combine(updates: Iterable[ModelUpdate], *, base: str, reference: State | None,
             defences: DefenceConfig | None = None, record: Callable[..., None] = lambda **_: None):
    _check_base(base, reference)
    if defences is not None and defences.aggregator != 'mean':
        return robust_combine(list(updates), base=base, reference=reference, defences=defences, record=record)
    accumulator = StreamingAverage() if base == 'avg' else StreamingNova(reference)
    first = None
    samples = 0
    weighted_steps = 0.0
    for update in updates:
        first = first or update
        if base == 'nova':
            accumulator.add(update.state, update.sample_count, steps=update.local_steps)
        else:
            accumulator.add(update.state, update.sample_count)
        samples += update.sample_count
        weighted_steps += update.sample_count * update.local_steps
    if first is None:
        raise ValueError('no updates to aggregate')
    steps = accumulator.steps_result() if base == 'nova' else weighted_steps / samples
    return first, accumulator.result(), samples, steps


def _defended(updates: Iterable[ModelUpdate], *, defences: DefenceConfig | None, reference: State | None,
              tier: str, record: Callable[..., None],
              last_step: State | None = None) -> Iterator[ModelUpdate] | None:
    """The updates the norm bound and the direction check of `tier` let through (None: none)."""
    bounded = screened(updates, defences=defences, reference=reference, tier=tier, record=record)
    return _peek(directed(bounded, defences=defences, reference=reference, record=record,
                          last_step=last_step))


def tier_aggregate(updates: Iterable[ModelUpdate], *, base: str,
                   global_state: State | None = None) -> ModelUpdate:
    """Eq. 8 at a top-level robot: combine its own update (first) with its members' updates.

    'avg' weights by sample count; 'nova' normalises each update by its effective steps relative
    to `global_state` (required then). The result carries the coordinator's id, the cluster's
    sample total and its effective steps, ready for `server_aggregate`. Streams: O(|θ|) memory.
    """
    first, state, samples, steps = _combine(updates, base=base, reference=global_state)
    return ModelUpdate(robot_id=first.robot_id, state=state, sample_count=samples,
                       local_steps=steps, round_index=first.round_index)


def server_aggregate(cluster_updates: Iterable[ModelUpdate], *, base: str, global_state: State,
                     defences: DefenceConfig | None = None, ceilings: Mapping[str, int] | None = None,
                     events: list[DefenceEvent] | None = None) -> dict[str, torch.Tensor]:
    """Eq. 9 at the server: the next global state from cluster models (or robot updates in flat
    FedAvg/FedNova), weighted by sample totals, normalised by steps for 'nova'.

    `ceilings` (defences.weight_ceilings) hold each model's weight to what its senders registered.
    `defences` bound each model against `global_state`, drop those pointing away from the others and
    pick the aggregator; their decisions go to `events`. When the bound refuses every model, the
    global model stays as it was.
    """
    record = recorder(events, tier='server', by=SERVER)
    passed = _defended(capped(cluster_updates, ceilings=ceilings, record=record), defences=defences,
                       reference=global_state, tier='server', record=record)
    if passed is None and defences is not None and defences.norm_bound.bound() is not None:
        return {k: v.clone() for k, v in global_state.items()}
    return _combine(passed or (), base=base, reference=global_state, defences=defences, record=record)[1]


def cluster_aggregate(own: ModelUpdate, members: Iterable[ModelUpdate], *, base: str, reading: str,
                      global_state: State | None = None, defences: DefenceConfig | None = None,
                      seed_state: State | None = None, ceilings: Mapping[str, int] | None = None,
                      last_step: State | None = None, fit_loss: Callable[[State], float] | None = None,
                      events: list[DefenceEvent] | None = None) -> ModelUpdate | None:
    """Eq. 8 under `reading` (one of TIER_AGGREGATES), streaming over `members`.

    `with_coordinator`: `own` and the members, weighted alike. `members_only`: the members' models
    alone, but the cluster still carries its whole sample total (own included) to eq. 9, since the
    seed put the coordinator's data into every member's model; a cluster whose members all failed
    (or were refused) falls back to `own`, the only model it has.

    `ceilings` (the plan's `registered` counts) hold each member's model to the samples it registered,
    as the server holds the cluster model. `defences` bound each model against `seed_state` (the seed
    the members started from), refuse the members' models that, so bounded, fit the coordinator's
    data (`fit_loss`: a model's mean loss on it; None at an audit) far worse than their peers', drop
    those pointing away from the others (`last_step`, the global model's move over the previous round
    when the coordinator knows it, judges a pair or a lone member) and pick the aggregator; their
    decisions go to `events`. None when the bound refuses every model.
    """
    if reading not in TIER_AGGREGATES:
        raise ValueError(f'unknown tier_aggregate reading {reading!r} (known: {", ".join(TIER_AGGREGATES)})')
    record = recorder(events, tier='cluster', by=own.robot_id)

    def bounded(updates, on_clip=None):
        return screened(updates, defences=defences, reference=seed_state, tier='cluster', record=record,
                        on_clip=on_clip)

    def passing(updates):
        return _peek(directed(updates, defences=defences, reference=seed_state, record=record,
                              last_step=last_step))

    # The fit check judges each member's model as the bound leaves it, the model eq. 8 would average
    # (a ×100 update clipped to the bound is judged as the honest update made longer that it then is),
    # against its peers' models as sent: clipping pulls a model toward the seed, which fits this data.
    as_sent: dict[str, State] = {}

    def note_as_sent(update):
        as_sent[update.robot_id] = update.state

    judged = bounded(capped(members, ceilings=ceilings, record=record),
                     on_clip=note_as_sent if judges_fit(defences, fit_loss) else None)
    members = fitted(judged, defences=defences, fit_loss=fit_loss, record=record, as_sent=as_sent)
    passed, extra = None, 0
    if reading == 'members_only':
        passed, extra = passing(members), own.sample_count
        if passed is None:
            kept = passing(bounded([own]))
            return next(kept) if kept is not None else None
    else:
        passed = passing(itertools.chain(bounded([own]), members))
        if passed is None:
            return None
    _, state, samples, steps = _combine(passed, base=base, reference=global_state, defences=defences, record=record)
    return ModelUpdate(robot_id=own.robot_id, state=state, sample_count=samples + extra,
                       local_steps=steps, round_index=own.round_index)
