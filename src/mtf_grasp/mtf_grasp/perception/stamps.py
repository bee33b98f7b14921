"""builtin_interfaces/Time <-> integer nanoseconds (exact; floats would lose nanoseconds)."""
from __future__ import annotations

NS_PER_S = 1_000_000_000


def stamp_to_ns(stamp) -> int:
    """Nanoseconds of a message-shaped Time (`sec`, `nanosec`)."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def ns_to_sec_nanosec(ns: int) -> tuple[int, int]:
    """(sec, nanosec) of a nanosecond count, as Time fields."""
    return divmod(int(ns), NS_PER_S)
