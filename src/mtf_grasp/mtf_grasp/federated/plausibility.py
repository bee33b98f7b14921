"""Profile plausibility: what the server believes of the data profiles robots claim (issue 19).

A robot's profile (sample count, class histogram) decides its rank, and nothing but the robot
vouches for it. Two checks bound a false claim:

- `capped`: a claimed count counts at most `cap` × the median claim in the ranking (its histogram
  scaled alike), so one robot's claim can shrink the others' DQS by a bounded factor only.
- `claim_holds`: a robot that trains E epochs over n samples in batches of B takes E·⌈n/B⌉ steps;
  a claim of n is implausible when its training reports fewer steps. Such a robot is not selected
  as top-level from the next round on (the experiment and the server keep the set).
"""
from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import NamedTuple, Sequence

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
