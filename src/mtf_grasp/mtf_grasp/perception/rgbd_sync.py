"""Approximate-time matching of colour, aligned depth and camera_info (our message_filters).

Each stream keeps a bounded queue. A colour frame is emitted with the depth and camera_info
nearest to its stamp once both lie within `slop`; older colour frames can then never be emitted
in order and are reported as dropped, as are colour frames pushed out of a full queue. A depth
image is used once; a camera_info may serve several frames (drivers sometimes publish it less often).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

STREAMS = ('color', 'depth', 'info')


@dataclass(frozen=True)
class RgbdFrame:
    """One matched set; `stamp_ns` is the colour image's stamp."""
    stamp_ns: int
    color: Any
    depth: Any
    info: Any


@dataclass(frozen=True)
class DroppedFrame:
    """A colour frame that will never be emitted, and the streams that had no match for it."""
    stamp_ns: int
    missing: tuple[str, ...]


class RgbdSynchronizer:
    """Feed messages with `add`; it returns an `RgbdFrame` when one completes, else None."""

    def __init__(self, *, slop_s: float, queue_size: int = 5,
                 on_drop: Callable[[DroppedFrame], None] | None = None):
        if slop_s < 0 or queue_size < 1:
            raise ValueError(f'need slop_s >= 0 and queue_size >= 1, got {slop_s}, {queue_size}')
        self._slop_ns = int(round(slop_s * 1e9))
        self._queues = {stream: deque() for stream in STREAMS}
        self._queue_size = queue_size
        self._on_drop = on_drop or (lambda dropped: None)

    def add(self, stream: str, *, stamp_ns: int, message: Any) -> RgbdFrame | None:
        if stream not in self._queues:
            raise ValueError(f'unknown stream {stream!r} (expected one of {STREAMS})')
        queue = self._queues[stream]
        if len(queue) == self._queue_size:
            old_stamp, _ = queue.popleft()
            if stream == 'color':
                self._drop(old_stamp)
        queue.append((int(stamp_ns), message))
        return self._match()

    def _nearest(self, stream: str, stamp_ns: int) -> int | None:
        """Index of the queued message nearest to `stamp_ns` within slop, or None."""
        best, best_gap = None, self._slop_ns + 1
        for index, (stamp, _) in enumerate(self._queues[stream]):
            gap = abs(stamp - stamp_ns)
            if gap < best_gap:
                best, best_gap = index, gap
        return best

    def _match(self) -> RgbdFrame | None:
        colors = self._queues['color']
        for color_index, (stamp, color) in enumerate(colors):
            depth_index, info_index = self._nearest('depth', stamp), self._nearest('info', stamp)
            if depth_index is None or info_index is None:
                continue
            for _ in range(color_index):
                self._drop(colors.popleft()[0])
            colors.popleft()
            depths, infos = self._queues['depth'], self._queues['info']
            depth = depths[depth_index][1]
            info = infos[info_index][1]
            for _ in range(depth_index + 1):
                depths.popleft()
            for _ in range(info_index):
                infos.popleft()
            return RgbdFrame(stamp_ns=stamp, color=color, depth=depth, info=info)
        return None

    def _drop(self, stamp_ns: int) -> None:
        missing = tuple(s for s in ('depth', 'info') if self._nearest(s, stamp_ns) is None)
        self._on_drop(DroppedFrame(stamp_ns=stamp_ns, missing=missing))
