"""The models a receiver expects in one round: who may send, what arrived, when enough are in.

Shared by the server (cluster models, or robot models in flat rounds) and tier coordinators
(their members' fine-tuned models). Every submission passes the node's SubmissionGuard (roster,
signature, round, version, duplicate, weights, decoding); once the round is closed at its
deadline, late ones are refused as stale. Nothing refused is ever aggregated.

Two ways to hand the models to the aggregation (the fleet config's `aggregation`): `close()`
returns them all at the end, in the order the senders were given, so the floats are those of
`mtf-grasp experiment` (the receiver holds k models: O(k·|θ|)); `stream()` hands each over as it
is admitted and keeps no reference to it, so an aggregation folding them holds O(|θ|) (plus the
models admitted but not yet taken), and its sums run in arrival order.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from typing import Iterable, Iterator, Sequence

from mtf_grasp.federated.admission import Accepted, Rejected, SubmissionGuard
from mtf_grasp.federated.rounds import ModelUpdate
from mtf_grasp.federated.signing import WireBlob
from mtf_grasp.nodes.fleet.work_clock import WorkClock


class RoundInbox:
    def __init__(self, *, round_index: int, senders: Sequence[str], version: int | None = None):
        self.round_index = round_index
        self.senders = tuple(senders)
        self.version = version  # the global model version the round's models must start from
        self._arrived: list[str] = []          # senders whose models were admitted, in arrival order
        self._held: dict[str, object] = {}     # admitted updates not yet handed over
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
                verdict = guard.check(blob, round_id=self.round_index, submitted=set(self._arrived),
                                      expected_senders=self.senders, version=self.version)
            if verdict.accepted:
                if on_accept is not None:
                    on_accept()
                self._arrived.append(blob.sender)
                self._held[blob.sender] = verdict.update
                self._changed.notify_all()
            return verdict

    def wait(self, timeout_s: float, *, count: int | None = None) -> bool:
        """True once `count` senders (default: every expected one) have submitted; False after
        `timeout_s`."""
        needed = len(self.senders) if count is None else count
        with self._changed:
            return self._changed.wait_for(lambda: len(self._arrived) >= needed, timeout_s)

    def quorum(self, share: float) -> int:
        """How many submissions a share of the expected senders is (at least one, if any)."""
        return min(len(self.senders), max(1, math.ceil(share * len(self.senders) - 1e-9)))

    def close(self) -> list:
        """End the round: later submissions are refused; returns what arrived and was not streamed,
        in the order the senders were given (so aggregation is deterministic)."""
        with self._changed:
            self._closed = True
            held, self._held = self._held, {}
            return [held[s] for s in self.senders if s in held]

    def stream(self, *, deadline: float, enough=None, clock: WorkClock | None = None) -> Iterator:
        """Each admitted update as it arrives, handed over (the inbox drops it), until every expected
        sender has submitted, or `deadline` (time.monotonic()) has passed and `enough(count)` holds
        (default: always); then the round is closed. `enough` may raise to fail the round instead.
        The waits are paused on `clock` (the aggregation consuming the stream runs in its timing())."""
        while True:
            # Paused before taking the lock: time spent behind an admission is the admission's (self.work).
            with (clock.paused() if clock else contextlib.nullcontext()), self._changed:
                while not self._held and len(self._arrived) < len(self.senders):
                    left = deadline - time.monotonic()
                    if left <= 0 and (enough is None or enough(len(self._arrived))):
                        break
                    self._changed.wait(left if left > 0 else 0.5)   # past the deadline: until enough arrive
                if not self._held:
                    self._closed = True
                    return
                update = self._held.pop(next(iter(self._held)))
            yield update

    def missing(self) -> list[str]:
        with self._changed:
            arrived = set(self._arrived)
            return [s for s in self.senders if s not in arrived]


def noted(updates: Iterable[ModelUpdate], into: list[ModelUpdate]) -> Iterator[ModelUpdate]:
    """`updates`, each appended to `into` without its weights as it passes: who sent what, kept
    after a stream has handed the models over."""
    for update in updates:
        into.append(dataclasses.replace(update, state={}))
        yield update
