"""Wall time of each step of one camera frame in the node: what `~/timing` publishes and
`bench inference --breakdown` reports."""
from __future__ import annotations

from time import perf_counter

STEPS = ('convert', 'preprocess', 'forward', 'decode', 'publish')


class StepTimer:
    """`mark(step)` records the milliseconds since the previous mark (or since creation)."""

    def __init__(self):
        self._last = perf_counter()
        self.ms: dict[str, float] = {}

    def mark(self, step: str) -> None:
        now = perf_counter()
        self.ms[step] = (now - self._last) * 1e3
        self._last = now
