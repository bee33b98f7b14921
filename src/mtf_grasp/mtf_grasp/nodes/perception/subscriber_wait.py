"""Hold a source back until its subscribers are matched, so the first frames are not lost."""
from __future__ import annotations

import time
from typing import Iterable

# Discovery is two-sided: a publisher can count a subscription before that subscriber has matched
# the publisher, and a best-effort (sensor-data) subscriber silently drops what arrives meanwhile.
# Half a second covers the other side on a loaded 2-core machine.
MATCH_SETTLE_S = 0.5


def wait_for_subscribers(publishers: Iterable, *, count: int, timeout_s: float, poll_s: float = 0.05,
                         settle_s: float = MATCH_SETTLE_S) -> bool:
    """True once every publisher has at least `count` matched subscriptions (and `settle_s` more
    has passed, when `count` > 0); False after `timeout_s`. A reliable subscriber needs none (0): a
    sample sent once the publisher has matched it is resent until acknowledged."""
    publishers = list(publishers)
    deadline = time.monotonic() + timeout_s
    while any(p.get_subscription_count() < count for p in publishers):
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    if count > 0:
        time.sleep(settle_s)
    return True
