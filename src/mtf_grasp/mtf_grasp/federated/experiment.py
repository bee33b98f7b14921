"""The experiment runner: every method on the same data, partition, initial model and seeds.

Federated methods run through `simulation.run_round` (the fleet's round logic and wire hops);
`centralized` trains one model on the union of the robots' data, `local_only` one model per robot
on its own data, both for the baseline epochs each round. Results are plain dicts ready for JSON.

`crashes` ({round: robots}) replays robot crashes in the federated methods: those robots miss that
round as they would in the fleet (see `simulation.run_round`), to measure what a crash costs.
`attacks` (attacks.py) replay one or more malicious robots in every federated method, the same robot
in each (selectors like `top:1` resolve on round 0's MTF plan); each method's `defences_per_round`
holds what the configured defences did.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Mapping, Sequence

import torch
from tqdm import tqdm

from mtf_grasp.federated.attacks import Adversary, Attack, resolve
from mtf_grasp.federated.config import REFERENCE_METHODS, ExperimentConfig
from mtf_grasp.federated.fedbn import LocalNorms
from mtf_grasp.federated.planning import plan_round, robot_seed
from mtf_grasp.federated.plausibility import TrainingReport, capped, implausible
from mtf_grasp.federated.profiles import id_order
from mtf_grasp.federated.defences import (IMPLAUSIBLE, DefenceEvent, defence_summary, event_record, lagging_in,
                                          ruled_out)
from mtf_grasp.federated.rounds import ModelUpdate, local_update
from mtf_grasp.federated.robust import RecentGlobals
from mtf_grasp.federated.seed_check import MIN_MEMBERS
from mtf_grasp.federated.simulation import LastStep, Wire, run_round
from mtf_grasp.federated.stopping import Plateau
from mtf_grasp.federated.traffic import SERVER, TrafficLedger
from mtf_grasp.federated.workload import Workload

Crashes = Mapping[int, frozenset[str]]


def parse_crash(text: str) -> tuple[str, int]:
    """`ROBOT:ROUND` (`--crash`, a fleet config's `crashes:`) as (robot, round); ValueError naming the text."""
    robot, _, index = text.rpartition(':')
    if not robot or not index.isdigit():
        raise ValueError(f'{text!r} is not ROBOT:ROUND, e.g. robot_3:1')
    return robot, int(index)


class _Rounds:
    """The round loop's end: the config's fixed number of rounds, or a plateau rule's stop."""

    def __init__(self, config: ExperimentConfig, plateau: Plateau | None):
        self.limit = plateau.max_rounds if plateau else config.federation.rounds
        self._plateau = plateau

    def run(self, curve: list[float]):
        """Yields round indices until the limit, or until the plateau rule stops `curve`."""
        for index in range(self.limit):
            yield index
            if self._plateau is not None and self._plateau.done(curve):
                return


def initial_state(config: ExperimentConfig) -> dict[str, torch.Tensor]:
    """The round-0 global model, the same for every method of a seed."""
    from mtf_grasp.grasping import build_model

    torch.manual_seed(robot_seed(config.seed, 'server', 0, 'init'))
    return {k: v.clone() for k, v in build_model(config.model).state_dict().items()}


def accuracy_on_test_set(state, config: ExperimentConfig, workload: Workload) -> float:
    """Rectangle-metric accuracy of `state` on the shared test set."""
    from mtf_grasp.grasping import evaluate, state_to_model

    model = state_to_model(dict(state), config.model)
    return evaluate(model, workload.dataset, indices=workload.test_indices,
                    device=config.training.device).accuracy


def plan_for(method: str, round_index: int, config: ExperimentConfig, workload: Workload, *,
             ineligible: frozenset[str] = frozenset()):
    """The round plan the config prescribes for `workload.profiles` (the fleet server calls this too):
    claimed counts capped by `defences.count_cap` for the ranking (the plan's `registered` counts stay
    as claimed), robots in `ineligible` never top-level; with the seed check, every coordinator gets
    `seed_check.MIN_MEMBERS` members where the fleet has them."""
    fed = config.federation
    cap = config.defences.count_cap
    profiles = capped(workload.profiles, cap=cap) if cap is not None else workload.profiles
    plan = plan_round(profiles, round_index=round_index, method=method, top_level_count=fed.top_level,
                      lambda_dds=fed.lambda_dds, lambda_dqs=fed.lambda_dqs, ranking=fed.ranking,
                      assignment=fed.assignment, seed=config.seed, ineligible=ineligible,
                      min_members=MIN_MEMBERS if config.defences.seed_ratio is not None else 0)
    return dataclasses.replace(plan, registered={p.robot_id: p.sample_count for p in workload.profiles})


class FederatedRounds:
    """One federated method's rounds as the experiment runs them, one `step` per round: the plan from
    the profiles the robots claim, eq. 8/9 with the defences, claims checked against the training
    reports, and every robot caught (claims, receipts, audits, a cluster the server refused) never
    top-level again. The ROS tests step it round by round beside the fleet."""

    def __init__(self, method: str, *, config: ExperimentConfig, workload: Workload, wire: Wire,
                 crashes: Crashes, adversary: Adversary):
        self.method, self.config, self.workload, self.wire = method, config, workload, wire
        self.crashes, self.adversary = crashes, adversary
        self.norms = LocalNorms() if config.federation.fedbn else None
        self.flagged: set[str] = set()
        self._globals = RecentGlobals()   # the fleet's last step (direction and step checks), as decoded
        self._receivers = frozenset()     # ... and the coordinators the previous round's global model reached
        self._lagging = frozenset()       # ... and those whose clusters the step check found lagging it

    def step(self, state, index: int, *, on_update=None) -> tuple[dict, object, list[DefenceEvent]]:
        """(the next global state, the round's plan, the defences' decisions) of round `index`."""
        config = self.config
        events: list[DefenceEvent] = []
        reports: list[TrainingReport] = []
        claimed = dataclasses.replace(self.workload, profiles=self.adversary.profiles(self.workload.profiles, index))
        plan = plan_for(self.method, round_index=index, config=config, workload=claimed,
                        ineligible=frozenset(self.flagged))
        crashed = self.crashes.get(index, frozenset())
        last_step = self._last_step(state, index, receivers=frozenset(plan.top_level) - crashed)
        state = run_round(state, plan=plan, config=config, dataset=self.workload.dataset,
                          indices=self.workload.indices, wire=self.wire, on_update=on_update,
                          crashed=crashed, local_norms=self.norms, adversary=self.adversary, events=events,
                          reports=reports, last_step=last_step)
        if config.defences.check_claims:
            caught = (set(implausible(claimed.profiles, reports, batch_size=config.training.batch_size))
                      - self.flagged)
            events += [DefenceEvent(tier='server', by=SERVER, reason=IMPLAUSIBLE, robot_id=r) for r in sorted(caught)]
            self.flagged |= caught
        self.flagged |= ruled_out(events, top_level=plan.top_level)
        self._lagging = lagging_in(events)
        return state, plan, events

    def _last_step(self, state, index: int, *, receivers: frozenset[str]) -> LastStep | None:
        """The global model's move into round `index` as the coordinators decode it, and which of them
        hold it (those the previous global reached too); remembers this round's global for the next.
        Only the direction and step checks use it."""
        if self.config.defences.direction_z is None and self.config.defences.step_ratio is None:
            return None
        self._globals.keep(index, self.wire.as_received(state))
        step = self._globals.step_into(index)
        holders, self._receivers = receivers & self._receivers, receivers
        return None if step is None else LastStep(step, holders=holders, lagged=self._lagging)


def _federated(method: str, *, config: ExperimentConfig, workload: Workload, tick, crashes: Crashes,
               rounds: _Rounds, adversary: Adversary) -> dict:
    ledger = TrafficLedger()
    runner = FederatedRounds(method, config=config, workload=workload, crashes=crashes, adversary=adversary,
                             wire=Wire(spec=config.model, dtype=config.federation.encoding, ledger=ledger))
    state = initial_state(config)
    result = {'accuracy_per_round': [], 'per_robot_accuracy': {}, 'defences_per_round': [],
              'top_level_per_round': []}
    trained: dict[str, dict] = {}

    def keep(update: ModelUpdate) -> None:
        trained[update.robot_id] = update.state

    for index in rounds.run(result['accuracy_per_round']):
        trained.clear()
        state, plan, events = runner.step(state, index, on_update=keep)
        result['defences_per_round'].append(defence_summary([event_record(e) for e in events]))
        result['top_level_per_round'].append(list(plan.top_level))
        result['accuracy_per_round'].append(accuracy_on_test_set(state, config=config, workload=workload))
        tick()
    # Per-robot accuracy of each robot's last local model (the paper's Table III), from the last round.
    result['per_robot_accuracy'] = {robot: accuracy_on_test_set(s, config=config, workload=workload)
                                    for robot, s in sorted(trained.items())}
    result['bytes_per_round'] = [ledger.round_summary(i) for i in range(len(result['accuracy_per_round']))]
    return result


def _train_alone(name: str, start, *, indices, round_index: int, config: ExperimentConfig, workload: Workload):
    return local_update(global_state=start, spec=config.model, dataset=workload.dataset, indices=indices,
                        epochs=config.epochs(name), round_index=round_index, robot_id=name,
                        settings=config.training_for(name), base_seed=config.seed).state


def _centralized(*, config: ExperimentConfig, workload: Workload, tick, rounds: _Rounds) -> dict:
    pooled = sorted(i for indices in workload.indices.values() for i in indices)
    state = initial_state(config)
    result = {'accuracy_per_round': [], 'per_robot_accuracy': {}}
    for index in rounds.run(result['accuracy_per_round']):
        state = _train_alone('centralized', state, indices=pooled, round_index=index, config=config, workload=workload)
        result['accuracy_per_round'].append(accuracy_on_test_set(state, config=config, workload=workload))
        tick()
    return result


def _local_only(*, config: ExperimentConfig, workload: Workload, tick, rounds: _Rounds) -> dict:
    states = {robot: initial_state(config) for robot in workload.indices}
    result = {'accuracy_per_round': [], 'per_robot_accuracy': {}}
    for index in rounds.run(result['accuracy_per_round']):
        for robot, indices in workload.indices.items():
            states[robot] = _train_alone(robot, states[robot], indices=indices, round_index=index, config=config, workload=workload)
            result['per_robot_accuracy'][robot] = accuracy_on_test_set(states[robot], config=config, workload=workload)
        per_robot = result['per_robot_accuracy'].values()
        result['accuracy_per_round'].append(sum(per_robot) / len(per_robot))
        tick()
    return result


def _silent_round(index: int) -> dict:
    return {'round': index, 'transfers': 0, 'payload_bytes': 0, 'parameter_bytes': 0, 'robots': {}}


def run_method(method: str, *, config: ExperimentConfig, workload: Workload, progress: bool = False,
               crashes: Crashes | None = None, plateau: Plateau | None = None,
               adversary: Adversary = Adversary()) -> dict:
    """{"accuracy_per_round", "final_accuracy", "per_robot_accuracy", "bytes_per_round", "params",
    "seconds"} (federated methods also "defences_per_round", "top_level_per_round") for one method: `config.federation.rounds`
    rounds, or until `plateau` stops it."""
    rounds = _Rounds(config, plateau)
    bar = tqdm(total=rounds.limit, desc=method, disable=not progress, leave=False)
    start = time.perf_counter()
    if method == 'centralized':
        result = _centralized(config=config, workload=workload, tick=bar.update, rounds=rounds)
    elif method == 'local_only':
        result = _local_only(config=config, workload=workload, tick=bar.update, rounds=rounds)
    else:
        result = _federated(method, config=config, workload=workload, tick=bar.update, crashes=crashes or {},
                            rounds=rounds, adversary=adversary)
    bar.close()
    if method in REFERENCE_METHODS:
        result['bytes_per_round'] = [_silent_round(i) for i in range(len(result['accuracy_per_round']))]
    state = initial_state(config)
    result['params'] = sum(v.numel() for v in state.values() if v.dtype.is_floating_point)
    result['final_accuracy'] = result['accuracy_per_round'][-1]
    result['seconds'] = round(time.perf_counter() - start, 1)
    return result


def describe_plan(config: ExperimentConfig, workload: Workload) -> tuple[list[dict], dict]:
    """("scores": robots in rank order with IS/DDS/DQS and data, "assignment") of round 0's MTF plan."""
    plan = plan_for('mtf_avg', round_index=0, config=config, workload=workload)
    profiles = {p.robot_id: p for p in workload.profiles}
    scores = [{'robot_id': rid, 'importance': imp, 'dds': dds, 'dqs': dqs,
               'samples': profiles[rid].sample_count, 'class_histogram': list(profiles[rid].class_histogram)}
              for rid, imp, dds, dqs in plan.ranking]
    assignment = {'strategy': config.federation.assignment, 'ranking': config.federation.ranking,
                  'top_level': list(plan.top_level),
                  'clusters': {c: list(members) for c, members in plan.clusters.items()}}
    return scores, assignment


def check_crashes(crashes: Crashes, *, config: ExperimentConfig, workload: Workload) -> None:
    """ValueError naming a crashed robot that is not in the partition or a round out of range."""
    unknown = sorted({r for robots in crashes.values() for r in robots} - set(workload.indices))
    if unknown:
        raise ValueError(f'crashed robot {unknown[0]!r} is not one of {", ".join(sorted(workload.indices))}')
    late = sorted(i for i in crashes if not 0 <= i < config.federation.rounds)
    if late:
        raise ValueError(f'crash in round {late[0]}: rounds are 0..{config.federation.rounds - 1}')


def resolve_attacks(attacks: Sequence[Attack], *, config: ExperimentConfig, workload: Workload) -> Adversary:
    """The attacks on robot ids (`top:K`/`low:K` of round 0's MTF plan); ValueError naming a robot that
    is not in the partition, a selector past its tier or a round out of range."""
    late = [a for a in attacks if a.from_round >= config.federation.rounds]
    if late:
        raise ValueError(f'attack from round {late[0].from_round}: rounds are 0..{config.federation.rounds - 1}')
    plan = plan_for('mtf_avg', round_index=0, config=config, workload=workload)
    return Adversary(resolve(attacks, plan=plan, robots=sorted(workload.indices, key=id_order)))


def run_experiment(config: ExperimentConfig, workload: Workload, *, progress: bool = False,
                   crashes: Crashes | None = None, attacks: Sequence[Attack] = ()) -> dict:
    """Every configured method on one workload: {"methods", "scores", "assignment", "partition",
    "config", "crashes", "attacks"}."""
    crashes = crashes or {}
    check_crashes(crashes, config=config, workload=workload)
    adversary = resolve_attacks(attacks, config=config, workload=workload)
    scores, assignment = describe_plan(config, workload)
    methods = {m: run_method(m, config=config, workload=workload, progress=progress, crashes=crashes,
                             adversary=adversary)
               for m in config.methods}
    return {'methods': methods, 'scores': scores, 'assignment': assignment,
            'crashes': {str(i): sorted(robots) for i, robots in sorted(crashes.items())},
            'attacks': [dataclasses.asdict(a) for a in adversary.attacks],
            'partition': {'method': workload.partition.method, 'sizes': workload.partition.sizes(),
                          'test': len(workload.test_indices)},
            'config': dataclasses.asdict(config)}
