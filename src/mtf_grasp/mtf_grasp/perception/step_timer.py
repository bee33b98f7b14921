"""Wall time of each step of one camera frame in the node: what `~/timing` publishes and
`bench inference --breakdown` reports."""
from __future__ import annotations

from time import perf_counter

# `dispatch`: from the frame's last message reaching the node process (its DDS reception time) to
# the start of processing: the executor's wake-up and the callbacks of the frame's other messages.
STEPS = ('dispatch', 'convert', 'preprocess', 'forward', 'decode', 'publish')


class StepTimer:
    """`mark(step)` records the milliseconds since the previous mark (or since creation)."""

    def __init__(self):
        self._last = perf_counter()
        self.ms: dict[str, float] = {}

    def add(self, step: str, ms: float) -> None:
        """Record a step timed elsewhere (before this timer started)."""
        self.ms[step] = ms

    def mark(self, step: str) -> None:
        now = perf_counter()
        self.ms[step] = (now - self._last) * 1e3
        self._last = now
