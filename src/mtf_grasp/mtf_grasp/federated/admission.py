"""The gate every submitted model passes before aggregation; pure, so nodes only call it.

Checks run cheapest and least trusting first, and nothing from an unauthenticated blob is
parsed: sender in the roster, sender expected here, HMAC signature, round, duplicate,
aggregation weights, header architecture; then the codec decodes the payload (size, sha256,
encoding, safetensors structure, architecture, tensor names/shapes/dtypes, NaN/Inf).
"""
from __future__ import annotations

import collections
import enum
import math
import struct
from dataclasses import dataclass
from typing import Collection, Mapping

from mtf_grasp.federated.codec import ModelRejected, decode_state, spec_json
from mtf_grasp.federated.rounds import ModelUpdate
from mtf_grasp.federated.signing import WireBlob, verify_blob


class RejectReason(enum.StrEnum):
    """Why a submission was refused; the value is the code counted in fleet status."""

    UNKNOWN_SENDER = 'unknown_sender'        # not in the roster (or no key for it here)
    UNEXPECTED_SENDER = 'unexpected_sender'  # in the roster, but not assigned to this receiver
    BAD_SIGNATURE = 'bad_signature'
    STALE_ROUND = 'stale_round'
    FUTURE_ROUND = 'future_round'
    WRONG_VERSION = 'wrong_version'          # trained from another global model than this round's
    DUPLICATE = 'duplicate'
    BAD_WEIGHT = 'bad_weight'                # sample_count 0, local_steps not finite and positive
    # the codec's faults (ModelFault), same codes
    WRONG_ARCHITECTURE = 'wrong_architecture'
    BAD_ENCODING = 'bad_encoding'
    OVERSIZE = 'oversize'
    BAD_SHA256 = 'bad_sha256'
    UNDECODABLE = 'undecodable'
    WRONG_TENSORS = 'wrong_tensors'
    NON_FINITE = 'non_finite'
    NORM_EXCEEDED = 'norm_exceeded'          # admitted, then refused by the aggregation's norm bound
    MISDIRECTED = 'misdirected'              # admitted, then refused by the aggregation's direction check
    POOR_SEED = 'poor_seed'                  # admitted, then refused by the server's seed check
    OFF_STEP = 'off_step'                    # admitted, then refused by the server's step check


# What malformed bytes can make a parser raise (RecursionError: deeply nested JSON headers);
# ImportError, MemoryError and the like are not about the blob and still propagate.
_DATA_ERRORS = (ArithmeticError, AttributeError, LookupError, RuntimeError, TypeError, ValueError,
                struct.error)

@dataclass(frozen=True)
class Accepted:
    """The submission is authentic, on time and well formed; `update` is ready to aggregate."""

    update: ModelUpdate

    accepted = True

    @property
    def state(self):
        return self.update.state


@dataclass(frozen=True)
class Rejected:
    """The submission was refused; `message` is one line naming the sender and the fault."""

    reason: RejectReason
    message: str

    accepted = False


class SubmissionGuard:
    """Admits the model blobs that enter one node: submissions at the server or a tier
    coordinator (`check`), and fetched global or seed models at a robot (`check_fetched`).

    `keys` maps every member whose models this node may accept to its HMAC key;
    `spec` is the model architecture the fleet trains. The guard counts its rejections by
    reason; the caller keeps the round state and records a sender once it is Accepted.
    """

    def __init__(self, *, keys: Mapping[str, bytes], spec):
        self._keys = dict(keys)
        self._spec = spec
        self._spec_json = spec_json(spec)
        self.rejections: collections.Counter[RejectReason] = collections.Counter()
        self.last_rejection = ''

    @property
    def rejected_total(self) -> int:
        return sum(self.rejections.values())

    def count_refusal(self, *, sender: str, round_id: int, reason: str, detail: str) -> None:
        """Count a model the aggregation's defences refused after admission (defences.REFUSED)."""
        code = RejectReason(reason)
        self.rejections[code] += 1
        self.last_rejection = _one_line(f'{code.value} from {sender!r} (round {round_id}): {detail}')

    def check(self, blob: WireBlob, *, round_id: int, submitted: Collection[str],
              expected_senders: Collection[str] | None = None,
              version: int | None = None) -> Accepted | Rejected:
        """Judge `blob` for round `round_id`, given who has `submitted` already.

        `expected_senders` (if given) are the members assigned to this receiver this round;
        `version` (if given) is the global model version the round started from.
        """
        return self._counted(
            self._authenticate(blob, expected_senders)
            or self._on_round(blob, round_id)
            or self._first(blob, submitted=submitted, version=version)
            or self._weighted(blob)
            or self._of_fleet_architecture(blob)
            or self._decoded(blob))

    def check_fetched(self, blob: WireBlob, *, round_id: int) -> Accepted | Rejected:
        """Judge a model a node fetched (the global model, or a coordinator's seed model):
        authentic, for round `round_id` and well formed. It carries no aggregation weights."""
        return self._counted(
            self._authenticate(blob, None)
            or self._on_round(blob, round_id)
            or self._of_fleet_architecture(blob)
            or self._decoded(blob))

    def refuse_closed(self, blob: WireBlob, *, expected_senders: Collection[str] | None, detail: str) -> Rejected:
        """A submission to a round the caller has closed: stale, unless it is not even authentic
        (unknown sender, forged), which is reported first here too, whatever the timing."""
        return self._counted(self._authenticate(blob, expected_senders)
                             or self._reject(blob, RejectReason.STALE_ROUND, detail))

    def _counted(self, verdict: Accepted | Rejected) -> Accepted | Rejected:
        if isinstance(verdict, Rejected):
            self.rejections[verdict.reason] += 1
            self.last_rejection = verdict.message
        return verdict

    def _reject(self, blob: WireBlob, reason: RejectReason, detail: str) -> Rejected:
        message = f'{reason.value} from {blob.sender!r} (round {blob.round}): {detail}'
        return Rejected(reason, _one_line(message))

    def _authenticate(self, blob, expected_senders) -> Rejected | None:
        if blob.sender not in self._keys:
            return self._reject(blob, RejectReason.UNKNOWN_SENDER, 'not a member of the fleet roster')
        if expected_senders is not None and blob.sender not in expected_senders:
            return self._reject(blob, RejectReason.UNEXPECTED_SENDER,
                                'not assigned to submit here this round')
        if not verify_blob(blob, self._keys[blob.sender]):
            return self._reject(blob, RejectReason.BAD_SIGNATURE,
                                "HMAC does not match the sender's key (forged or altered)")
        return None

    def _on_round(self, blob, round_id) -> Rejected | None:
        if blob.round < round_id:
            return self._reject(blob, RejectReason.STALE_ROUND, f'current round is {round_id}')
        if blob.round > round_id:
            return self._reject(blob, RejectReason.FUTURE_ROUND, f'current round is {round_id}')
        return None

    def _first(self, blob, *, submitted, version) -> Rejected | None:
        if version is not None and blob.version != version:
            return self._reject(blob, RejectReason.WRONG_VERSION,
                                f'trained from version {blob.version}, round uses {version}')
        if blob.sender in submitted:
            return self._reject(blob, RejectReason.DUPLICATE, 'already submitted this round')
        return None

    def _weighted(self, blob) -> Rejected | None:
        # Aggregation divides by these; a zero or NaN would poison or crash it.
        if blob.sample_count <= 0:
            return self._reject(blob, RejectReason.BAD_WEIGHT, 'sample_count must be positive')
        if not (math.isfinite(blob.local_steps) and blob.local_steps > 0):
            return self._reject(blob, RejectReason.BAD_WEIGHT,
                                f'local_steps must be finite and positive, got {blob.local_steps}')
        return None

    def _of_fleet_architecture(self, blob) -> Rejected | None:
        if blob.architecture != self._spec.arch or blob.metadata_json != self._spec_json:
            return self._reject(blob, RejectReason.WRONG_ARCHITECTURE,
                                f'header says {blob.architecture!r} with metadata '
                                f'{blob.metadata_json[:120]!r}; the fleet trains {self._spec_json}')
        return None

    def _decoded(self, blob) -> Accepted | Rejected:
        try:
            state = decode_state(blob.payload, sha256=blob.sha256, encoding=blob.encoding,
                                 expected_spec=self._spec)
        except ModelRejected as exc:
            return self._reject(blob, RejectReason(exc.fault.value), exc.detail)
        except _DATA_ERRORS as exc:  # a decoder bug on hostile bytes must cost one submission, not the node
            return self._reject(blob, RejectReason.UNDECODABLE,
                                f'decoder failed: {type(exc).__name__}: {exc}')
        return Accepted(ModelUpdate(robot_id=blob.sender, state=state, sample_count=blob.sample_count,
                                    local_steps=blob.local_steps, round_index=blob.round))


def _one_line(text: str, limit: int = 500) -> str:
    """Hostile strings reach logs and fleet status: escape control characters, bound the length."""
    text = ''.join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit + 1])
    return text if len(text) <= limit else text[:limit - 1] + '…'
