"""Byte accounting: every model that moves between fleet members, per round and per robot."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from mtf_grasp.federated.codec import EncodedModel

SERVER = 'server'


@dataclass(frozen=True)
class Transfer:
    """One model sent from `sender` to `receiver` in round `round_index`."""

    round_index: int
    sender: str
    receiver: str
    payload_bytes: int     # safetensors bytes on the wire (tensor data + header)
    parameter_bytes: int   # |θ|·bytes per parameter


class TrafficLedger:
    """Records transfers; `round_summary` gives totals and what each robot sent and received."""

    def __init__(self):
        self._transfers: list[Transfer] = []

    def record(self, encoded: EncodedModel, *, round_index: int, sender: str, receiver: str) -> None:
        self._transfers.append(Transfer(round_index, sender, receiver, len(encoded.payload),
                                        encoded.parameter_bytes))

    def rounds(self) -> list[int]:
        return sorted({t.round_index for t in self._transfers})

    def round_summary(self, round_index: int) -> dict:
        """{"transfers", "payload_bytes", "parameter_bytes", "robots": {id: {"sent", "received"}}}
        where robots' figures are payload bytes and the server is not listed."""
        moved = [t for t in self._transfers if t.round_index == round_index]
        robots: dict[str, dict[str, int]] = defaultdict(lambda: {'sent': 0, 'received': 0})
        for t in moved:
            if t.sender != SERVER:
                robots[t.sender]['sent'] += t.payload_bytes
            if t.receiver != SERVER:
                robots[t.receiver]['received'] += t.payload_bytes
        return {'round': round_index,
                'transfers': len(moved),
                'payload_bytes': sum(t.payload_bytes for t in moved),
                'parameter_bytes': sum(t.parameter_bytes for t in moved),
                'robots': dict(sorted(robots.items()))}
