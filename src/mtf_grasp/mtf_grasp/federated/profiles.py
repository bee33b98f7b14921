"""What a robot reveals about its data: a sample count and a class histogram, never the data."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class RobotProfile:
    """A robot's data profile, the input of scoring and tier assignment.

    `class_histogram[k]` is the number of the robot's samples whose labeller class is `k`;
    every robot of a fleet uses the same labeller, so all histograms have the same length K.
    """

    robot_id: str
    sample_count: int
    class_histogram: tuple[int, ...]

    def __post_init__(self):
        if self.sample_count < 0 or any(c < 0 for c in self.class_histogram):
            raise ValueError(f'{self.robot_id}: counts must be non-negative')
        object.__setattr__(self, 'class_histogram', tuple(int(c) for c in self.class_histogram))


def robot_ids(count: int) -> list[str]:
    """The fleet's robot ids: robot_0 .. robot_{count-1}."""
    return [f'robot_{i}' for i in range(count)]


def id_order(robot_id: str) -> tuple:
    """Sort key that puts robot_2 before robot_10 (numbers compared as numbers)."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r'(\d+)', robot_id))
