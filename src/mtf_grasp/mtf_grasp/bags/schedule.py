"""When to publish each recorded message: the recorded spacing scaled by 1/rate, optionally looped."""
from __future__ import annotations

from typing import Iterator, Sequence


def playback_schedule(timestamps_ns: Sequence[int], *, rate: float = 1.0,
                      loop: bool = False) -> Iterator[tuple[int, float]]:
    """Yield (message index, seconds after the start of playback) in publishing order.

    With `loop`, the bag restarts one mean recorded frame period after its last message (1 s for
    a single-frame bag), forever; the caller stops iterating.
    """
    if rate <= 0:
        raise ValueError(f'rate must be > 0, got {rate}')
    if not timestamps_ns:
        return
    first = timestamps_ns[0]
    distinct = sorted(set(timestamps_ns))
    period_s = (distinct[-1] - first) / 1e9 / (len(distinct) - 1) if len(distinct) > 1 else 1.0
    span_s = (distinct[-1] - first) / 1e9 + period_s
    lap = 0
    while True:
        for index, stamp in enumerate(timestamps_ns):
            yield index, (lap * span_s + (stamp - first) / 1e9) / rate
        if not loop:
            return
        lap += 1
