"""When a run has learned what it will learn: a plateau rule on the global model's accuracy curve.

After at least `min_rounds` rounds, a run stops once the mean accuracy of its last `window` rounds
is less than `min_delta` above the mean of the `window` rounds before them, or at `max_rounds`.
Its score is the mean of the last `window` rounds (the plateau level): one round's accuracy moves
by a point or more from round to round, the mean of three much less.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Plateau:
    min_rounds: int = 6
    max_rounds: int = 12
    window: int = 3
    min_delta: float = 0.01   # accuracy, i.e. 1 point

    def __post_init__(self):
        if self.window < 1:
            raise ValueError(f'plateau.window must be at least 1, got {self.window}')
        if not 2 * self.window <= self.min_rounds <= self.max_rounds:
            raise ValueError(f'plateau needs 2·window ({2 * self.window}) <= min_rounds ({self.min_rounds}) '
                             f'<= max_rounds ({self.max_rounds})')

    def done(self, curve: Sequence[float]) -> bool:
        """True when the run should stop after the rounds in `curve`."""
        if len(curve) >= self.max_rounds:
            return True
        if len(curve) < self.min_rounds:
            return False
        last, before = curve[-self.window:], curve[-2 * self.window:-self.window]
        return sum(last) / self.window - sum(before) / self.window < self.min_delta

    def score(self, curve: Sequence[float]) -> float:
        """The plateau level: the mean of the last `window` rounds (fewer if the run is shorter)."""
        tail = curve[-self.window:]
        return sum(tail) / len(tail)
