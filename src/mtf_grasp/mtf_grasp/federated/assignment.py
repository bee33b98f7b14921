"""Assignment of low-level robots to top-level coordinators (an open question of the paper).

Each strategy takes the ranked profiles and the coordinator ids and returns
{coordinator_id: [low-level member ids]}; every non-coordinator is assigned exactly once.
"""
from __future__ import annotations

from typing import Callable, Sequence

from mtf_grasp.federated.profiles import RobotProfile, id_order
from mtf_grasp.federated.scores import distribution_score

Clusters = dict[str, list[str]]


def _split(profiles: Sequence[RobotProfile], coordinators: Sequence[str]):
    by_id = {p.robot_id: p for p in profiles}
    missing = [c for c in coordinators if c not in by_id]
    if missing:
        raise ValueError(f'coordinator {missing[0]!r} has no profile')
    chosen = set(coordinators)
    members = [p for p in profiles if p.robot_id not in chosen]
    return by_id, members


def _largest_first(members: Sequence[RobotProfile]) -> list[RobotProfile]:
    return sorted(members, key=lambda p: (-p.sample_count, id_order(p.robot_id)))


def balanced(profiles: Sequence[RobotProfile], coordinators: Sequence[str]) -> Clusters:
    """Greedy by descending |D|: each robot joins the coordinator with the fewest samples so far."""
    by_id, members = _split(profiles, coordinators)
    clusters: Clusters = {c: [] for c in coordinators}
    load = {c: by_id[c].sample_count for c in coordinators}
    for member in _largest_first(members):
        target = min(coordinators, key=lambda c: (load[c], coordinators.index(c)))
        clusters[target].append(member.robot_id)
        load[target] += member.sample_count
    return clusters


def round_robin(profiles: Sequence[RobotProfile], coordinators: Sequence[str]) -> Clusters:
    """Low-level robots in the given (rank) order dealt to coordinators in turn."""
    _, members = _split(profiles, coordinators)
    clusters: Clusters = {c: [] for c in coordinators}
    for position, member in enumerate(members):
        clusters[coordinators[position % len(coordinators)]].append(member.robot_id)
    return clusters


def class_complement(profiles: Sequence[RobotProfile], coordinators: Sequence[str]) -> Clusters:
    """Greedy by descending |D|: each robot joins the coordinator whose cluster histogram becomes
    most uniform (highest DDS); ties go to the cluster with fewer samples, then rank order."""
    by_id, members = _split(profiles, coordinators)
    clusters: Clusters = {c: [] for c in coordinators}
    histogram = {c: list(by_id[c].class_histogram) for c in coordinators}
    for member in _largest_first(members):
        def merged_score(c: str) -> tuple:
            merged = [a + b for a, b in zip(histogram[c], member.class_histogram)]
            return (-distribution_score(merged), sum(histogram[c]), coordinators.index(c))
        target = min(coordinators, key=merged_score)
        clusters[target].append(member.robot_id)
        histogram[target] = [a + b for a, b in zip(histogram[target], member.class_histogram)]
    return clusters


STRATEGIES: dict[str, Callable[[Sequence[RobotProfile], Sequence[str]], Clusters]] = {
    'balanced': balanced,
    'round_robin': round_robin,
    'class_complement': class_complement,
}


def with_at_least(clusters: Clusters, profiles: Sequence[RobotProfile], minimum: int) -> Clusters:
    """`clusters` with every coordinator holding at least `minimum` members where the others can
    spare them: a short coordinator (in order) takes the smallest member (fewest samples) of the cluster
    with the most members (ties: the earlier coordinator), as long as that cluster keeps more than
    `minimum`.

    The seed check needs it (seed_check.py): a coordinator without members has its seed judged by
    nobody, and a lone member decides its cluster's value alone."""
    count = {p.robot_id: p.sample_count for p in profiles}
    result = {c: list(members) for c, members in clusters.items()}
    for short in result:
        while len(result[short]) < minimum:
            donor = max(result, key=lambda c: len(result[c]))   # max keeps the first of equals
            if len(result[donor]) <= minimum:
                return result
            given = min(reversed(result[donor]), key=count.__getitem__)   # ties: the last one assigned
            result[donor].remove(given)
            result[short].append(given)
    return result


def assign(profiles: Sequence[RobotProfile], coordinators: Sequence[str], *, strategy: str,
           min_members: int = 0) -> Clusters:
    """Apply the named strategy ('balanced', 'round_robin' or 'class_complement'), then give every
    coordinator at least `min_members` members where possible (`with_at_least`)."""
    try:
        clusters = STRATEGIES[strategy](profiles, list(coordinators))
    except KeyError:
        raise ValueError(f'unknown assignment strategy {strategy!r} '
                         f'(known: {", ".join(STRATEGIES)})') from None
    return with_at_least(clusters, profiles, min_members) if min_members > 0 else clusters
