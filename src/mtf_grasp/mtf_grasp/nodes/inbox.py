"""The models a receiver expects in one round: who may send, what arrived, when all are in.

Shared by the server (cluster models, or robot models in flat rounds) and tier coordinators
(their members' fine-tuned models). Submissions for another round, from a sender not expected,
or a second one from the same sender are refused with a reason, never aggregated.
"""
from __future__ import annotations

import threading
from typing import Callable, Sequence

from mtf_grasp.federated.codec import ModelRejected
from mtf_grasp.federated.rounds import ModelUpdate
from mtf_grasp.nodes.blob_transport import BlobRejected, received_payload


class RoundInbox:
    def __init__(self, *, round_index: int, senders: Sequence[str]):
        self.round_index = round_index
        self.senders = tuple(senders)
        self._items: dict[str, object] = {}
        self._lock = threading.Lock()
        self._complete = threading.Event()
        if not self.senders:
            self._complete.set()

    def admit(self, blob, *, receive: Callable) -> str | None:
        """Check a submitted ModelBlob, decode it with `receive(blob) -> state` and store it as a
        ModelUpdate; returns why it was refused, or None when it was accepted."""
        reason = self.refusal(round_index=blob.round, sender=blob.sender)
        if reason is not None:
            return reason
        try:
            state = receive(blob)
        except (BlobRejected, ModelRejected) as exc:
            return f'{blob.sender}: {exc.reason}'
        update = ModelUpdate(robot_id=blob.sender, state=state, sample_count=blob.sample_count,
                             local_steps=blob.local_steps, round_index=blob.round)
        return self.add(round_index=blob.round, sender=blob.sender, item=update)

    def refusal(self, *, round_index: int, sender: str) -> str | None:
        """Why a submission would be refused, or None; cheap, so checked before decoding."""
        with self._lock:
            return self._refusal(round_index, sender)

    def add(self, *, round_index: int, sender: str, item) -> str | None:
        """Store `item` unless refused (checked again, atomically); returns the refusal or None."""
        with self._lock:
            reason = self._refusal(round_index, sender)
            if reason is None:
                self._items[sender] = item
                if len(self._items) == len(self.senders):
                    self._complete.set()
            return reason

    def _refusal(self, round_index: int, sender: str) -> str | None:
        if round_index != self.round_index:
            return f'{sender}: submission for round {round_index}, the current round is {self.round_index}'
        if sender not in self.senders:
            return f'{sender}: not expected to submit in round {self.round_index}'
        if sender in self._items:
            return f'{sender}: already submitted in round {self.round_index}'
        return None

    def wait(self, timeout_s: float) -> bool:
        """True once every expected sender has submitted; False after `timeout_s`."""
        return self._complete.wait(timeout_s)

    def missing(self) -> list[str]:
        with self._lock:
            return [s for s in self.senders if s not in self._items]

    def items(self) -> list:
        """What arrived, in the order the senders were given (aggregation order is deterministic)."""
        with self._lock:
            return [self._items[s] for s in self.senders if s in self._items]


def receive_state(blob, *, fleet, report, receiver: str):
    """The state in `blob` after the transport's sha256 check and the codec's checks; the
    transfer is recorded for the round summary."""
    payload = received_payload(blob)
    report.transfer(round_index=blob.round, sender=blob.sender, receiver=receiver, payload_bytes=len(payload))
    return fleet.decode(payload, blob)
