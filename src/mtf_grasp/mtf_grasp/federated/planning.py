"""The plan of one federated round: ranking, top-level robots and their clusters (DESIGN §4).

The server computes it; tier coordinators and clients read their role from it. Pure and
deterministic: the same profiles, settings and seed give the same plan in every process.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence, Union

from mtf_grasp.federated.assignment import assign
from mtf_grasp.federated.profiles import RobotProfile, id_order
from mtf_grasp.federated.scores import RobotScore, score_robots

# Method name -> the base aggregation ('avg' or 'nova') it builds on.
METHOD_BASES = {'mtf_avg': 'avg', 'mtf_nova': 'nova', 'fedavg': 'avg', 'fednova': 'nova', 'fedprox': 'avg'}
TIERED_METHODS = ('mtf_avg', 'mtf_nova')
RANKINGS = ('is', 'dds', 'dqs', 'random')


def robot_seed(base_seed: int, robot_id: str, round_index: int, purpose: str = 'train') -> int:
    """A stable 31-bit seed for one robot's work in one round (sha256, identical in every process)."""
    text = f'{base_seed}:{robot_id}:{round_index}:{purpose}'.encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], 'big') % (2 ** 31 - 1)


def method_base(method: str) -> str:
    """'avg' or 'nova' for a federated method name; ValueError for an unknown one."""
    try:
        return METHOD_BASES[method]
    except KeyError:
        raise ValueError(f'unknown method {method!r} (known: {", ".join(METHOD_BASES)})') from None


@dataclass(frozen=True)
class TopLevelFraction:
    """j = round(fraction · n): the share of the round's robots that are top-level."""

    fraction: float

    def __post_init__(self):
        if not 0 < self.fraction < 1:
            raise ValueError(f'top_level fraction must lie in (0, 1), got {self.fraction}')


# j as a number, or a rule for it from the round's n robots: 'sqrt' (round(√n): clusters of about √n,
# so coordinators and the server each aggregate about √n models) or {fraction: f}.
TopLevelRule = Union[int, Literal['sqrt'], TopLevelFraction]


def resolve_top_level(rule: TopLevelRule, robots: int) -> int:
    """The number j of top-level robots among `robots` under `rule`; a rule's j is kept in
    [1, n−1], a number is returned as given (plan_round checks it)."""
    if isinstance(rule, int):
        return rule
    j = round(math.sqrt(robots)) if rule == 'sqrt' else round(rule.fraction * robots)
    return min(max(j, 1), robots - 1)


@dataclass(frozen=True)
class RoundPlan:
    """Who does what in round `round_index`.

    `ranking` lists (robot_id, IS, DDS, DQS) best first; `top_level` holds the coordinators in rank
    order and `clusters` maps each coordinator to its low-level members. Flat methods (FedAvg,
    FedNova, FedProx) have no tiers: `top_level` and `clusters` are empty. `registered` holds the
    samples each robot registered: no model it sends weighs more (defences.weight_ceilings).
    """

    round_index: int
    method: str
    ranking: tuple[tuple[str, float, float, float], ...]
    top_level: tuple[str, ...]
    clusters: dict[str, tuple[str, ...]]
    registered: Mapping[str, int] = field(default_factory=dict)

    @property
    def tiered(self) -> bool:
        return bool(self.top_level)

    @property
    def robot_ids(self) -> list[str]:
        return sorted((entry[0] for entry in self.ranking), key=id_order)

    def coordinator_of(self, robot_id: str) -> str | None:
        """The coordinator whose seed model `robot_id` fine-tunes; None for coordinators and flat rounds."""
        for coordinator, members in self.clusters.items():
            if robot_id in members:
                return coordinator
        return None


def _ranked(profiles: Sequence[RobotProfile], *, ranking: str, lambda_dds: float, lambda_dqs: float,
            seed: int, round_index: int) -> list[RobotScore]:
    scores = score_robots(profiles, lambda_dds=lambda_dds, lambda_dqs=lambda_dqs)
    if ranking == 'is':
        return scores
    if ranking == 'dds':
        return sorted(scores, key=lambda s: (-s.distribution, id_order(s.robot_id)))
    if ranking == 'dqs':
        return sorted(scores, key=lambda s: (-s.quantity, id_order(s.robot_id)))
    if ranking == 'random':
        shuffled = sorted(scores, key=lambda s: id_order(s.robot_id))
        random.Random(robot_seed(seed, 'fleet', round_index, 'ranking')).shuffle(shuffled)
        return shuffled
    raise ValueError(f'unknown ranking {ranking!r} (known: {", ".join(RANKINGS)})')


def plan_round(profiles: Sequence[RobotProfile], *, round_index: int, method: str, top_level_count: TopLevelRule,
               lambda_dds: float = 0.5, lambda_dqs: float = 0.5, ranking: str = 'is',
               assignment: str = 'balanced', seed: int = 0,
               ineligible: frozenset[str] = frozenset(), min_members: int = 0) -> RoundPlan:
    """Rank the robots and, for MTF methods, pick the top j (`top_level_count`: a number, or a
    rule for j from the number of profiles: `resolve_top_level`) and assign the rest.

    Robots in `ineligible` (their claims did not hold: plausibility.py) are never picked top-level.

    `ranking` chooses the ordering used to pick top-level robots: 'is' (the Importance Score),
    'dds' or 'dqs' alone, or 'random' (redrawn each round from `seed`) for ablations.
    With `min_members`, every coordinator gets at least that many members where the fleet has them
    (assignment.with_at_least).
    """
    method_base(method)
    ids = [p.robot_id for p in profiles]
    if len(set(ids)) != len(ids):
        raise ValueError('robot ids must be unique')
    ranked = _ranked(profiles, ranking=ranking, lambda_dds=lambda_dds, lambda_dqs=lambda_dqs,
                     seed=seed, round_index=round_index)
    table = tuple((s.robot_id, s.importance, s.distribution, s.quantity) for s in ranked)
    registered = {p.robot_id: p.sample_count for p in profiles}
    if method not in TIERED_METHODS:
        return RoundPlan(round_index, method, table, (), {}, registered)
    j = resolve_top_level(top_level_count, len(profiles))
    if not 1 <= j < len(profiles):
        raise ValueError(f'top-level count j={j} must lie in [1, n-1] for n={len(profiles)}')
    top = [s.robot_id for s in ranked if s.robot_id not in ineligible][:j]
    if not top:
        raise ValueError('no robot is eligible as top-level')
    # Low-level robots enter the assignment in rank order (round_robin deals them in that order).
    by_id = {p.robot_id: p for p in profiles}
    ordered = [by_id[s.robot_id] for s in ranked]
    clusters = assign(ordered, top, strategy=assignment, min_members=min_members)
    return RoundPlan(round_index, method, table, tuple(top),
                     {c: tuple(members) for c, members in clusters.items()}, registered)
