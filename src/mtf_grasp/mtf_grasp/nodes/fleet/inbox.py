"""The models a receiver expects in one round: who may send, what arrived, when enough are in.

Shared by the server (cluster models, or robot models in flat rounds) and tier coordinators
(their members' fine-tuned models). Every submission passes the node's SubmissionGuard (roster,
signature, round, version, duplicate, weights, decoding); once the round is closed at its
deadline, late ones are refused as stale. Nothing refused is ever aggregated.
"""
from __future__ import annotations

import math
import threading
from typing import Sequence

from mtf_grasp.federated.admission import Accepted, Rejected, SubmissionGuard
from mtf_grasp.federated.signing import WireBlob
from mtf_grasp.nodes.fleet.work_clock import WorkClock


class RoundInbox:
    def __init__(self, *, round_index: int, senders: Sequence[str], version: int | None = None):
        self.round_index = round_index
        self.senders = tuple(senders)
        self.version = version  # the global model version the round's models must start from
        self._items: dict[str, object] = {}
        self._closed = False
        self._changed = threading.Condition()
        self.work = WorkClock()   # the guard's time on this round's submissions (verification, decoding)

    def admit(self, blob: WireBlob, *, guard: SubmissionGuard, on_accept=None) -> Accepted | Rejected:
        """Judge `blob` with `guard`; an accepted update is kept for aggregation, after `on_accept()`
        (what must be known about it before anyone waiting for it wakes)."""
        # One at a time: the guard's verdict depends on who has submitted, and its counters change.
        with self._changed:
            if self._closed:
                return guard.refuse_closed(blob, expected_senders=self.senders,
                                           detail=f'round {self.round_index} closed at its deadline')
            with self.work.timing():
                verdict = guard.check(blob, round_id=self.round_index, submitted=set(self._items),
                                      expected_senders=self.senders, version=self.version)
            if verdict.accepted:
                if on_accept is not None:
                    on_accept()
                self._items[blob.sender] = verdict.update
                self._changed.notify_all()
            return verdict

    def wait(self, timeout_s: float, *, count: int | None = None) -> bool:
        """True once `count` senders (default: every expected one) have submitted; False after
        `timeout_s`."""
        needed = len(self.senders) if count is None else count
        with self._changed:
            return self._changed.wait_for(lambda: len(self._items) >= needed, timeout_s)

    def quorum(self, share: float) -> int:
        """How many submissions a share of the expected senders is (at least one, if any)."""
        return min(len(self.senders), max(1, math.ceil(share * len(self.senders) - 1e-9)))

    def close(self) -> list:
        """End the round: later submissions are refused; returns what arrived, in the order the
        senders were given (so aggregation is deterministic)."""
        with self._changed:
            self._closed = True
            return [self._items[s] for s in self.senders if s in self._items]

    def missing(self) -> list[str]:
        with self._changed:
            return [s for s in self.senders if s not in self._items]
