"""A node's own work in a round, timed as wall seconds and as CPU seconds of the thread doing it.

On a machine that simulates many robots, a coordinator's wall time for admitting a model includes
the time its thread waited for a core or for the GIL held by other robots' nodes in its process;
the CPU time does not. Reported side by side, they tell the fleet's cost from the simulation's
crowding (docs/scaling.md). Each timed block runs in one thread, so its thread_time delta is the
CPU that block used (torch computes on the calling thread with the fleet's `torch_threads: 1`).
"""
from __future__ import annotations

import contextlib
import time


class WorkClock:
    def __init__(self):
        self.wall_s = 0.0
        self.cpu_s = 0.0

    def timing(self):
        """Add the wall and thread CPU seconds of the block to the totals (callers serialise blocks
        that share a clock: the inbox times under its lock)."""
        return self._counted(+1)

    def paused(self):
        """Leave the block out of the timing() block around it: waiting for models is not work."""
        return self._counted(-1)

    @contextlib.contextmanager
    def _counted(self, sign: int):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.wall_s += sign * (time.perf_counter() - wall)
            self.cpu_s += sign * (time.thread_time() - cpu)

    def __add__(self, other: WorkClock) -> WorkClock:
        total = WorkClock()
        total.wall_s, total.cpu_s = self.wall_s + other.wall_s, self.cpu_s + other.cpu_s
        return total
