"""Proof that a model blob or a robot profile came from a roster member: HMAC-SHA256 signatures.

Each signature is HMAC-SHA256 with the sender's key (`roster`) over a fixed byte layout. Every
field is framed as a 4-byte big-endian length followed by its bytes, so no field can bleed into
the next:

    model blob  "mtf-grasp/model-blob/v1", sender, architecture, round (u32 BE),
                version (u64 BE), sample_count (u64 BE), local_steps (IEEE-754 f64 BE),
                encoding, metadata_json, SHA-256 of the payload (32 raw bytes)
    profile     "mtf-grasp/robot-profile/v1", robot_id, sample_count (u64 BE),
                class_histogram (u32 BE each), labeller
    seed report "mtf-grasp/seed-report/v1", sender, coordinator, round (u32 BE),
                seed_sha256, loss (IEEE-754 f64 BE)

Strings are UTF-8. The payload enters through the digest the verifier computes itself, so a
valid signature proves the payload too, whatever the blob's own ``sha256`` field claims.
The signature travels as 64 lower-case hex digits. A receipt (`receipt_of`) is a blob without its
payload: its signature is checked against the digest it declares.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import struct
from dataclasses import dataclass, field
from typing import Any, Iterable

_BLOB_TAG = b'mtf-grasp/model-blob/v1'
_PROFILE_TAG = b'mtf-grasp/robot-profile/v1'
_SEED_REPORT_TAG = b'mtf-grasp/seed-report/v1'


@dataclass(frozen=True)
class WireBlob:
    """The fields of mtf_grasp_interfaces/msg/ModelBlob, without ROS; nodes convert in one place."""

    sender: str
    architecture: str
    round: int
    version: int
    sample_count: int
    local_steps: float
    encoding: str
    metadata_json: str
    sha256: str
    payload: bytes = field(repr=False)
    signature: str = ''

    def __post_init__(self):
        # A message's uint8[] arrives as an array or memoryview; the codec parses bytes.
        if not isinstance(self.payload, bytes):
            object.__setattr__(self, 'payload', bytes(self.payload))


@dataclass(frozen=True)
class WireProfile:
    """The fields of mtf_grasp_interfaces/msg/RobotProfile, without ROS."""

    robot_id: str
    sample_count: int
    class_histogram: tuple[int, ...]
    labeller: str


@dataclass(frozen=True)
class WireSeedReport:
    """The fields of mtf_grasp_interfaces/msg/SeedReport but its signature, without ROS."""

    sender: str
    coordinator: str
    round: int
    seed_sha256: str
    loss: float


def _text(value: str) -> bytes:
    # surrogatepass: a hostile string with lone surrogates must still frame, not crash.
    return value.encode('utf-8', 'surrogatepass')


def _framed(parts: Iterable[bytes]) -> bytes:
    return b''.join(struct.pack('>I', len(p)) + p for p in parts)


def blob_signing_bytes(blob: WireBlob) -> bytes:
    """The exact bytes a blob signature covers (layout in the module docstring).

    Raises ValueError or TypeError when a field does not fit its wire type (e.g. round < 0).
    """
    return _blob_fields(blob, hashlib.sha256(blob.payload).digest())


def _receipt_signing_bytes(receipt: WireBlob) -> bytes:
    digest = bytes.fromhex(receipt.sha256)
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError(f'sha256 {receipt.sha256!r} is not 32 bytes')
    return _blob_fields(receipt, digest)


def _blob_fields(blob: WireBlob, digest: bytes) -> bytes:
    return _framed([
        _BLOB_TAG,
        _text(blob.sender),
        _text(blob.architecture),
        struct.pack('>I', blob.round),
        struct.pack('>Q', blob.version),
        struct.pack('>Q', blob.sample_count),
        struct.pack('>d', blob.local_steps),
        _text(blob.encoding),
        _text(blob.metadata_json),
        digest,
    ])


def profile_signing_bytes(profile: WireProfile) -> bytes:
    """The exact bytes a profile signature covers (layout in the module docstring)."""
    histogram = b''.join(struct.pack('>I', c) for c in profile.class_histogram)
    return _framed([
        _PROFILE_TAG,
        _text(profile.robot_id),
        struct.pack('>Q', profile.sample_count),
        histogram,
        _text(profile.labeller),
    ])


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _matches(key: bytes, message_fn, record: Any, signature: str) -> bool:
    try:
        expected = _mac(key, message_fn(record))
    except (struct.error, TypeError, ValueError, OverflowError):
        return False  # a field outside its wire type cannot have been signed
    return hmac.compare_digest(expected.encode('ascii'), _text(signature))


def sign_blob(blob: WireBlob, key: bytes) -> str:
    """The hex HMAC-SHA256 of `blob` under `key`; put it in the blob's `signature` field."""
    return _mac(key, blob_signing_bytes(blob))


def signed(blob: WireBlob, key: bytes) -> WireBlob:
    """A copy of `blob` carrying its signature under `key`."""
    return dataclasses.replace(blob, signature=sign_blob(blob, key))


def verify_blob(blob: WireBlob, key: bytes) -> bool:
    """True when `blob.signature` is `key`'s signature of exactly this blob, payload included."""
    return _matches(key, blob_signing_bytes, blob, blob.signature)


def receipt_of(blob: WireBlob) -> WireBlob:
    """`blob` without its payload: its sender's signature still names the model by its sha256, so a
    member's receipt shows which model it sent without moving the model."""
    return dataclasses.replace(blob, payload=b'')


def verify_receipt(receipt: WireBlob, key: bytes) -> bool:
    """True when `receipt.signature` is `key`'s signature of a blob with these fields whose payload
    hashes to `receipt.sha256` (a receipt_of a blob that verify_blob accepts)."""
    return _matches(key, _receipt_signing_bytes, receipt, receipt.signature)


def sign_profile(profile: WireProfile, key: bytes) -> str:
    return _mac(key, profile_signing_bytes(profile))


def verify_profile(profile: WireProfile, signature: str, key: bytes) -> bool:
    """True when `signature` is `key`'s signature of exactly this profile."""
    return _matches(key, profile_signing_bytes, profile, signature)


def _seed_report_signing_bytes(report: WireSeedReport) -> bytes:
    return _framed([_SEED_REPORT_TAG, _text(report.sender), _text(report.coordinator),
                    struct.pack('>I', report.round), _text(report.seed_sha256), struct.pack('>d', report.loss)])


def sign_seed_report(report: WireSeedReport, key: bytes) -> str:
    return _mac(key, _seed_report_signing_bytes(report))


def verify_seed_report(report: WireSeedReport, signature: str, key: bytes) -> bool:
    """True when `signature` is `key`'s signature of exactly this seed report."""
    return _matches(key, _seed_report_signing_bytes, report, signature)
