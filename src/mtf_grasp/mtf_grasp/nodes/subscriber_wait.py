"""Hold a source back until its subscribers are matched, so the first frames are not lost."""
from __future__ import annotations

import time
from typing import Iterable


def wait_for_subscribers(publishers: Iterable, *, count: int, timeout_s: float, poll_s: float = 0.05) -> bool:
    """True once every publisher has at least `count` matched subscriptions; False after `timeout_s`."""
    publishers = list(publishers)
    deadline = time.monotonic() + timeout_s
    while any(p.get_subscription_count() < count for p in publishers):
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True
