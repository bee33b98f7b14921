"""Profile plausibility: what the server believes of the data profiles robots claim (issue 19).

A robot's profile (sample count, class histogram) decides its rank, and nothing but the robot
vouches for it. Two checks bound a false claim:

- `capped`: a claimed count counts at most `cap` × the median claim in the ranking (its histogram
  scaled alike), so one robot's claim can shrink the others' DQS by a bounded factor only.
- `claim_holds`: a robot that trains E epochs over n samples in batches of B takes E·⌈n/B⌉ steps;
  a claim of n is implausible when its training reports fewer steps. Such a robot is not selected
  as top-level from the next round on (the experiment and the server keep the set). In the ROS
  fleet the report is what the robot's signed blobs say (`implausible_in_fleet`); a robot that
  lies about its steps as well escapes this check, and `capped` is what bounds it then.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Mapping, NamedTuple, Sequence

from mtf_grasp.federated.aggregation import effective_steps
from mtf_grasp.federated.profiles import RobotProfile


def capped(profiles: Sequence[RobotProfile], *, cap: float) -> list[RobotProfile]:
    """Every claimed count limited to `cap` × the median claim, its histogram scaled alike (floor)."""
    limit = cap * statistics.median(p.sample_count for p in profiles)
    result = []
    for p in profiles:
        if p.sample_count <= limit:
            result.append(p)
            continue
        keep = limit / p.sample_count
        result.append(RobotProfile(p.robot_id, math.floor(limit), tuple(math.floor(c * keep) for c in p.class_histogram)))
    return result


def claim_holds(claimed: int, *, steps: int, epochs: int, batch_size: int) -> bool:
    """True when `steps` over `epochs` epochs in batches of `batch_size` can cover `claimed` samples."""
    return steps >= epochs * math.ceil(claimed / batch_size)


class TrainingReport(NamedTuple):
    """What a robot's training in one call reports: SGD steps over how many epochs."""

    robot_id: str
    steps: int
    epochs: int


def implausible(profiles: Sequence[RobotProfile], reports: Sequence[TrainingReport], *,
                batch_size: int) -> list[str]:
    """Robots whose reported training (summed over the round) cannot cover their claimed count;
    robots that reported nothing (crashed, or refused) are not judged."""
    steps, epochs = Counter(), Counter()
    for report in reports:
        steps[report.robot_id] += report.steps
        epochs[report.robot_id] += report.epochs
    return [p.robot_id for p in profiles if epochs[p.robot_id] > 0
            and not claim_holds(p.sample_count, steps=steps[p.robot_id], epochs=epochs[p.robot_id],
                                batch_size=batch_size)]


def implausible_in_fleet(profiles: Sequence[RobotProfile], plan, sent_steps: Mapping[str, float], *,
                         seed_epochs: int, local_epochs: int, batch_size: int, momentum: float) -> list[str]:
    """The fleet server's `implausible`: `sent_steps` are the `local_steps` the robots' signed blobs
    (or receipts) of the round carry, FedNova's effective steps with `momentum`. A coordinator is
    judged on its seed (et epochs); a member's blob carries its seed's steps too, so its own are
    the difference (er epochs); a flat plan's robots train er epochs from the global model. A robot
    without a signed count (or whose coordinator's is missing) is not judged."""
    judged = {}
    if not plan.top_level:
        judged = {r: (s, local_epochs) for r, s in sent_steps.items()}
    for coordinator in plan.top_level:
        if coordinator not in sent_steps:
            continue
        judged[coordinator] = (sent_steps[coordinator], seed_epochs)
        judged.update({m: (sent_steps[m] - sent_steps[coordinator], local_epochs)
                       for m in plan.clusters[coordinator] if m in sent_steps})
    claims = {p.robot_id: p.sample_count for p in profiles}
    # The relative slack absorbs float rounding of the difference; a false claim misses by whole steps.
    return [r for r, (steps, epochs) in sorted(judged.items())
            if r in claims and steps < (1 - 1e-9) * effective_steps(epochs * math.ceil(claims[r] / batch_size),
                                                                     momentum)]
