"""One federated round in one process, with the same wire hops as the ROS fleet.

Every model that moves between fleet members goes through the codec (encode, count, decode), so the
in-process experiment trains on exactly the floats the fleet's robots receive, and the byte counts
are those of real payloads. Order of work per round:

- flat (FedAvg/FedNova/FedProx): server -> every robot; each trains; robot -> server; eq. 9.
- MTF: server -> each top-level robot; it trains et epochs into a seed; seed -> its low-level robots;
  each scores the seed on its own data for the server's seed check (with `defences.seed_ratio`) and
  fine-tunes er epochs; member -> coordinator; eq. 8 under the configured reading (with or
  without the coordinator's own model: its seed, or the seed trained on to er epochs); cluster ->
  server; eq. 9.

With FedBN (`local_norms` given) every robot trains with its own BatchNorm layers (fedbn.py).

An `adversary` replays attacks (attacks.py) at the points where a robot could lie: the models it
trains, the data it trains on, and as a coordinator its cluster model and which members it counts.
The configured defences act inside the aggregations (rounds.py), and the server checks each
cluster's receipts, audits clusters (audit.py) and compares the members' seed reports across clusters
(seed_check.py); their decisions go to `events`.

Robots named in `crashed` do what a robot that crashes at the start of the round does in the
fleet: they receive nothing and send nothing, and the round closes without them (a crashed
coordinator takes its whole cluster with it).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import torch

from mtf_grasp.federated.attacks import Adversary, forged
from mtf_grasp.federated.audit import AUDIT_MISMATCH, MEMBER_MISSING, audited, caught, missing_members
from mtf_grasp.federated.codec import decode_state, encode_state
from mtf_grasp.federated.config import ExperimentConfig
from mtf_grasp.federated.fit_check import loss_on
from mtf_grasp.federated.planning import RoundPlan, method_base
from mtf_grasp.federated.fedbn import LocalNorms
from mtf_grasp.federated.plausibility import TrainingReport
from mtf_grasp.federated.defences import DefenceEvent, off_step, recorder, seeds_refused, weight_ceilings
from mtf_grasp.federated.rounds import ModelUpdate, cluster_aggregate, local_update, server_aggregate
from mtf_grasp.federated.traffic import SERVER, TrafficLedger

State = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class LastStep:
    """The global model's move over the previous round as the robots decoded both models
    (robust.global_step), and the robots that hold it: the coordinators the previous global reached."""

    step: dict[str, torch.Tensor]
    holders: frozenset[str]
    lagged: frozenset[str] = frozenset()   # coordinators whose clusters lagged it the round before (step check)


@dataclass
class Wire:
    """Moves states between members through the codec and records each transfer in `ledger`."""

    spec: object
    dtype: str
    ledger: TrafficLedger

    def send(self, state: State, *, round_index: int, sender: str, receivers: Sequence[str]) -> dict:
        """Encode once, count one transfer per receiver, return what every receiver decodes."""
        encoded = encode_state(state, spec=self.spec, dtype=self.dtype)
        for receiver in receivers:
            self.ledger.record(encoded, round_index=round_index, sender=sender, receiver=receiver)
        return self._decoded(encoded)

    def as_received(self, state: State) -> dict:
        """`state` as a receiver would decode it, without sending it (the codec's rounding included)."""
        return self._decoded(encode_state(state, spec=self.spec, dtype=self.dtype))

    def _decoded(self, encoded) -> dict:
        return decode_state(encoded.payload, sha256=encoded.sha256, encoding=encoded.encoding,
                            expected_spec=self.spec)


def run_round(global_state: State, *, plan: RoundPlan, config: ExperimentConfig, dataset,
              indices: Mapping[str, Sequence[int]], wire: Wire,
              on_update: Callable[[ModelUpdate], None] | None = None, crashed: frozenset[str] = frozenset(),
              local_norms: LocalNorms | None = None, adversary: Adversary = Adversary(),
              events: list[DefenceEvent] | None = None, reports: list[TrainingReport] | None = None,
              last_step: LastStep | None = None, progress: bool = False) -> dict[str, torch.Tensor]:
    """Run `plan` from `global_state` without the `crashed` robots; return the next global state.

    No model weighs more than its senders registered (`plan.registered`): the coordinators hold their
    members to it, the server each model it receives.

    `reports` receives every robot's training report (steps, epochs), for profile plausibility.

    `last_step` is the global model's move over the previous round, for the direction check's pair
    tie-breaker, and which coordinators hold it (those that received the previous global model); the
    server, which made both models, holds it for the step check whenever it is known.

    `on_update` sees each robot's trained update (before it is sent), e.g. to measure per-robot
    accuracy. Updates are aggregated as they arrive, so at most one cluster is in memory.
    """
    method, index = plan.method, plan.round_index
    base = method_base(method)
    ceilings = weight_ceilings(plan)
    settings = config.training_for(method)

    def train(robot: str, start: State, *, epochs: int, prior_steps: float = 0.0, purpose: str = 'train',
              final: bool = True) -> ModelUpdate:
        if local_norms is not None:
            start = local_norms.apply(robot, start)
        update = local_update(global_state=start, spec=config.model, dataset=adversary.data(dataset, robot, index),
                              indices=indices[robot], epochs=epochs, round_index=index, robot_id=robot, settings=settings,
                              base_seed=config.seed, prior_steps=prior_steps, purpose=purpose, progress=progress)
        if local_norms is not None:
            local_norms.keep(robot, update.state)
        if reports is not None:
            reports.append(TrainingReport(robot, update.steps, update.epochs))
        update = adversary.sent(update, start, base_seed=config.seed, purpose=purpose)
        if on_update is not None and final:
            on_update(update)
        return update

    def uploaded(update: ModelUpdate, receiver: str) -> ModelUpdate:
        state = wire.send(update.state, round_index=index, sender=update.robot_id, receivers=[receiver])
        return replace(update, state=state)

    if not plan.tiered:
        robots = [r for r in plan.robot_ids if r not in crashed]
        received = wire.send(global_state, round_index=index, sender=SERVER, receivers=robots)
        updates = (uploaded(train(robot, received, epochs=config.epochs(method)), SERVER) for robot in robots)
        return server_aggregate(updates, base=base, global_state=global_state, defences=config.defences,
                                ceilings=ceilings, events=events)

    coordinators = [c for c in plan.top_level if c not in crashed]
    received = wire.send(global_state, round_index=index, sender=SERVER, receivers=coordinators)

    more = config.continuation_epochs(method)

    checks = config.defences
    record = recorder(events, tier='server', by=SERVER)
    seed_reports: dict[str, list[float]] = {}   # coordinator -> its members' seed losses (the seed check)

    def own_loss(robot: str) -> Callable[[State], float]:
        """A state's mean loss on `robot`'s data as it trains on it this round (fit and seed checks)."""
        return loss_on(config.model, adversary.data(dataset, robot, index), indices[robot], device=settings.device)

    def seed_losses(coordinator: str, members: Sequence[str], seed_state: State) -> None:
        if checks.seed_ratio is not None:
            seed_reports[coordinator] = [adversary.reported(m, index, own_loss(m)(seed_state)) for m in members]

    def clusters() -> Iterator[ModelUpdate]:
        for coordinator in coordinators:
            seed = train(coordinator, received, epochs=config.epochs(method, coordinator=True), final=not more)
            members = [m for m in plan.clusters[coordinator] if m not in crashed]
            seed_state = wire.send(seed.state, round_index=index, sender=coordinator, receivers=members)
            seed_losses(coordinator, members, seed_state)
            own = seed if not more else train(coordinator, seed.state, epochs=more, prior_steps=seed.local_steps,
                                              purpose='continue')
            audit = audited(seed=config.seed, round_index=index, coordinator=coordinator, rate=checks.audit_rate)
            # What the members sent (their own receipts; the models themselves only for an audit, so an
            # unaudited cluster still streams) and what the coordinator's receipt names.
            sent: list = []
            counted: list[str] = []
            fine_tuned = _noted(sent, (uploaded(train(m, seed_state, epochs=config.epochs(method),
                                                      prior_steps=seed.local_steps), coordinator)
                                       for m in members), ids=not audit)
            kinds = adversary.kinds(coordinator, index)
            if 'dropped_member' in kinds and members:   # it still trains and uploads; it is not counted
                fine_tuned = (u for u in fine_tuned if u.robot_id != members[0])
            aggregate = partial(cluster_aggregate, base=base, reading=config.federation.tier_aggregate,
                                global_state=received, defences=checks, seed_state=seed_state,
                                ceilings=plan.registered)
            step = last_step.step if last_step is not None and coordinator in last_step.holders else None
            fit_loss = own_loss(coordinator) if checks.fit_ratio is not None else None
            cluster = aggregate(own, _noted(counted, fine_tuned, ids=True), events=events, last_step=step,
                                fit_loss=fit_loss)
            if cluster is None:   # the norm bound refused every model of the cluster: nothing to send
                continue
            if 'forged_aggregate' in kinds:
                cluster = replace(cluster, state=forged(cluster.state, received))
            cluster = uploaded(cluster, SERVER)
            senders = [u.robot_id for u in sent] if audit else sent
            if checks.check_members and missing_members(senders, counted):
                record(reason=MEMBER_MISSING, robot_id=coordinator)
            if audit:
                for model in (own, *sent):      # the server fetches every model of the cluster
                    wire.send(model.state, round_index=index, sender=model.robot_id, receivers=[SERVER])
                honest = caught(cluster.state, partial(_recomputed, aggregate, own, sent, wire=wire), received,
                                last_step=last_step.step if last_step is not None else None,
                                fit_checked=[u.robot_id for u in sent] if checks.fit_ratio is not None else ())
                if honest is not None:
                    record(reason=AUDIT_MISMATCH, robot_id=coordinator)
                    cluster = honest
            yield cluster

    arriving: Iterable[ModelUpdate] = clusters()
    if checks.seed_ratio is not None:   # every cluster's reports are in before any cluster is judged
        arriving = list(arriving)
        refused = seeds_refused({c.robot_id: seed_reports[c.robot_id] for c in arriving}, defences=checks,
                                record=record)
        arriving = [c for c in arriving if c.robot_id not in refused]
    if checks.step_ratio is not None:   # judged against each other, as the seed check's clusters
        arriving = list(arriving)
        refused = off_step(arriving, defences=checks, reference=global_state, record=record,
                           last_step=last_step.step if last_step is not None else None,
                           lagged=last_step.lagged if last_step is not None else frozenset())
        arriving = [c for c in arriving if c.robot_id not in refused]
    return server_aggregate(arriving, base=base, global_state=global_state, defences=config.defences,
                            ceilings=ceilings, events=events)


def _recomputed(aggregate, own: ModelUpdate, sent: list[ModelUpdate], last_step: State | None,
                left_out: frozenset[str], *, wire: Wire) -> ModelUpdate | None:
    """An audit's eq. 8 over the cluster's models but those `left_out`, as the server would receive it."""
    honest = aggregate(own, [u for u in sent if u.robot_id not in left_out], events=None, last_step=last_step)
    return None if honest is None else replace(honest, state=wire.as_received(honest.state))


def _noted(into: list, updates: Iterable[ModelUpdate], *, ids: bool = False) -> Iterator[ModelUpdate]:
    """`updates`, each also appended to `into` (its robot id with `ids`) as it passes."""
    for update in updates:
        into.append(update.robot_id if ids else update)
        yield update
