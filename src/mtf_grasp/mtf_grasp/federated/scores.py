"""Data Distribution, Data Quantity and Importance Scores, and the top-j ranking (DESIGN §4)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from mtf_grasp.federated.profiles import RobotProfile, id_order


def distribution_score(histogram: Sequence[int]) -> float:
    """DDS = 1 − ‖p − u‖₂ / ‖e₁ − u‖₂: 1 for a balanced histogram, 0 for a single-class one.

    An empty histogram scores 0 (nothing to learn from); with one class every robot is balanced.
    """
    total = sum(histogram)
    classes = len(histogram)
    if total <= 0 or classes == 0:
        return 0.0
    if classes == 1:
        return 1.0
    uniform = 1.0 / classes
    distance = math.sqrt(sum((count / total - uniform) ** 2 for count in histogram))
    worst = math.sqrt((1.0 - uniform) ** 2 + (classes - 1) * uniform ** 2)
    return 1.0 - distance / worst


def quantity_score(sample_count: int, largest_count: int) -> float:
    """DQS = |D_r| / max_s |D_s| (0 when no robot has data)."""
    return sample_count / largest_count if largest_count > 0 else 0.0


@dataclass(frozen=True)
class RobotScore:
    """One robot's scores; `importance` = λ_DDS·DDS + λ_DQS·DQS."""

    robot_id: str
    importance: float
    distribution: float
    quantity: float


def score_robots(profiles: Sequence[RobotProfile], *, lambda_dds: float = 0.5,
                 lambda_dqs: float = 0.5) -> list[RobotScore]:
    """Scores of every robot, ranked by descending importance (ties broken by robot id)."""
    largest = max((p.sample_count for p in profiles), default=0)
    scores = []
    for profile in profiles:
        dds = distribution_score(profile.class_histogram)
        dqs = quantity_score(profile.sample_count, largest)
        scores.append(RobotScore(profile.robot_id, lambda_dds * dds + lambda_dqs * dqs, dds, dqs))
    return sorted(scores, key=lambda s: (-s.importance, id_order(s.robot_id)))


def top_level(scores: Sequence[RobotScore], count: int) -> list[str]:
    """Ids of the `count` highest-ranked robots, in rank order."""
    if not 0 <= count <= len(scores):
        raise ValueError(f'top-level count {count} must lie in [0, {len(scores)}]')
    return [s.robot_id for s in scores[:count]]
