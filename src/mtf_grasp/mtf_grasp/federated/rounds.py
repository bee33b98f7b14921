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
"""
from __future__ import annotations

from dataclasses import dataclass
import itertools
from typing import Iterable, Literal, Mapping, Sequence

import torch

from mtf_grasp.federated.aggregation import StreamingAverage, StreamingNova, effective_steps
from mtf_grasp.federated.planning import robot_seed

State = Mapping[str, torch.Tensor]

TIER_AGGREGATES = ('with_coordinator', 'members_only')
COORDINATOR_EPOCHS = ('seed_only', 'seed_then_local')


@dataclass(frozen=True)
class LocalTrainingSettings:
    """How every robot trains locally (the same for all methods of an experiment)."""

    lr: float = 1e-3
    batch_size: int = 8
    optimizer: Literal['adam', 'sgd'] = 'adam'
    momentum: float = 0.0        # SGD momentum ρ; FedNova's step count a accounts for it
    weight_decay: float = 0.0
    prox_mu: float = 0.0         # FedProx proximal weight μ; 0 turns the term off
    device: str = 'cpu'
    # 'bf16': autocast the forward pass to bfloat16 where the CPU (AVX512-BF16/AMX) or GPU has it;
    # 'auto' picks bf16 there and fp32 elsewhere. Weights, optimiser and loss stay fp32.
    precision: Literal['fp32', 'bf16', 'auto'] = 'fp32'


@dataclass(frozen=True)
class ModelUpdate:
    """A model trained by `robot_id` (or aggregated by a coordinator) in `round_index`.

    `sample_count` is the aggregation weight; `local_steps` is FedNova's effective step count a,
    counted from the global model of the round (a low-level robot's includes its seed's steps).
    """

    robot_id: str
    state: dict[str, torch.Tensor]
    sample_count: int
    local_steps: float
    round_index: int


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
    momentum = settings.momentum if settings.optimizer == 'sgd' else 0.0
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return ModelUpdate(robot_id=robot_id, state=state, sample_count=len(indices),
                       local_steps=prior_steps + effective_steps(stats.steps, momentum),
                       round_index=round_index)


def _combine(updates: Iterable[ModelUpdate], *, base: str, reference: State | None):
    if base == 'avg':
        accumulator = StreamingAverage()
    elif base == 'nova':
        if reference is None:
            raise ValueError("base 'nova' needs the round's global state as reference")
        accumulator = StreamingNova(reference)
    else:
        raise ValueError(f"unknown aggregation base {base!r} (known: 'avg', 'nova')")
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


def server_aggregate(cluster_updates: Iterable[ModelUpdate], *, base: str,
                     global_state: State) -> dict[str, torch.Tensor]:
    """Eq. 9 at the server: the next global state from cluster models (or robot updates in flat
    FedAvg/FedNova), weighted by sample totals, normalised by steps for 'nova'."""
    return _combine(cluster_updates, base=base, reference=global_state)[1]


def cluster_aggregate(own: ModelUpdate, members: Iterable[ModelUpdate], *, base: str, reading: str,
                      global_state: State | None = None) -> ModelUpdate:
    """Eq. 8 under `reading` (one of TIER_AGGREGATES), streaming over `members`.

    `with_coordinator`: `tier_aggregate` over `own` and the members. `members_only`: the members'
    models alone, but the cluster still carries its whole sample total (own included) to eq. 9,
    since the seed put the coordinator's data into every member's model; a cluster whose members
    all failed falls back to `own`, the only model it has.
    """
    if reading == 'with_coordinator':
        return tier_aggregate(itertools.chain([own], members), base=base, global_state=global_state)
    if reading != 'members_only':
        raise ValueError(f'unknown tier_aggregate reading {reading!r} (known: {", ".join(TIER_AGGREGATES)})')
    members = iter(members)
    first = next(members, None)
    if first is None:
        return own
    _, state, samples, steps = _combine(itertools.chain([first], members), base=base, reference=global_state)
    return ModelUpdate(robot_id=own.robot_id, state=state, sample_count=samples + own.sample_count,
                       local_steps=steps, round_index=own.round_index)
