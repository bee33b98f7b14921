"""Who may take part in the fleet, and proof that a model blob or profile came from them.

Roster: the ``roster:`` section of a fleet config maps each member id (robots and ``server``)
to the file that holds its HMAC key. Key files hold 32 random bytes as 64 hex digits and must
not be readable by group or others (like ssh keys); `write_key_files` makes them.

Signatures: HMAC-SHA256 with the sender's key over a fixed byte layout. Every field is framed
as a 4-byte big-endian length followed by its bytes, so no field can bleed into the next:

    model blob  "mtf-grasp/model-blob/v1", sender, architecture, round (u32 BE),
                version (u64 BE), sample_count (u64 BE), local_steps (IEEE-754 f64 BE),
                encoding, metadata_json, SHA-256 of the payload (32 raw bytes)
    profile     "mtf-grasp/robot-profile/v1", robot_id, sample_count (u64 BE),
                class_histogram (u32 BE each), labeller

Strings are UTF-8. The payload enters through the digest the verifier computes itself, so a
valid signature proves the payload too, whatever the blob's own ``sha256`` field claims.
The signature travels as 64 lower-case hex digits.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
import secrets
import stat
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from mtf_grasp.configfile import load_yaml
from mtf_grasp.errors import InputError

ROSTER_SECTION = 'roster'
KEY_BYTES = 32
KEY_SUFFIX = '.key'
# Ids become file names and ROS names: no path separators, no dots.
_MEMBER_ID = re.compile(r'[A-Za-z][A-Za-z0-9_]{0,63}\Z')
_BLOB_TAG = b'mtf-grasp/model-blob/v1'
_PROFILE_TAG = b'mtf-grasp/robot-profile/v1'


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
class Roster:
    """Fleet members and their key files. `source` names the config the roster came from."""

    key_files: Mapping[str, Path]
    source: str = 'roster'

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.key_files)

    def __contains__(self, member_id: object) -> bool:
        return member_id in self.key_files

    def load_keys(self, ids: Iterable[str] | None = None) -> dict[str, bytes]:
        """Read the keys of `ids` (all members by default); a node loads only those it needs."""
        wanted = self.ids if ids is None else tuple(ids)
        missing = [i for i in wanted if i not in self.key_files]
        if missing:
            raise InputError(f'{self.source}: {missing[0]!r} is not in the roster '
                             f'(members: {", ".join(self.ids)})')
        keys = {i: read_key(self.key_files[i], member=f'{self.source}.{i}') for i in wanted}
        owners: dict[bytes, str] = {}
        for member_id, key in keys.items():
            if key in owners:  # one could sign as the other
                raise InputError(f'{self.source}: {owners[key]!r} and {member_id!r} share a key; '
                                 'every member needs its own')
            owners[key] = member_id
        return keys


def check_member_id(member_id: Any, where: str) -> str:
    if not isinstance(member_id, str) or not _MEMBER_ID.match(member_id):
        raise InputError(f'{where}: member id {member_id!r} must be a letter followed by up to 63 '
                         'letters, digits or underscores')
    return member_id


def roster_from_mapping(data: Any, *, source: str, base_dir: str | Path) -> Roster:
    """Build a roster from ``{member_id: key_file}``; relative key files are under `base_dir`."""
    if not isinstance(data, Mapping) or not data:
        raise InputError(f'{source}: expected a non-empty mapping of member id to key file, '
                         f'got {data!r}')
    key_files = {}
    for member_id, key_file in data.items():
        check_member_id(member_id, source)
        if not isinstance(key_file, str) or not key_file.strip():
            raise InputError(f'{source}.{member_id}: expected a key file path, got {key_file!r}')
        key_files[member_id] = Path(base_dir) / Path(key_file).expanduser()
    return Roster(key_files=key_files, source=source)


def load_roster(config_path: str | Path) -> Roster:
    """The roster of a fleet config file; key files are relative to the config's directory."""
    config_path = Path(config_path)
    data = load_yaml(config_path)
    if ROSTER_SECTION not in data:
        raise InputError(f'{config_path}: no {ROSTER_SECTION!r} section (member id -> key file)')
    return roster_from_mapping(data[ROSTER_SECTION], source=f'{config_path}:{ROSTER_SECTION}',
                               base_dir=config_path.parent)


def read_key(path: str | Path, *, member: str) -> bytes:
    """Read one key file; missing, malformed or group/world-readable files are InputErrors."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding='ascii').strip()
    except FileNotFoundError:
        raise InputError(f'{member}: key file {path} not found '
                         '(make keys with `mtf-grasp keys generate --roster CONFIG --out DIR`)') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f'{member}: cannot read key file {path} ({exc})') from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f'{member}: key file {path} is accessible by group or others '
                         f'(mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}`')
    if not re.fullmatch(r'[0-9a-fA-F]+', text) or len(text) != 2 * KEY_BYTES:
        raise InputError(f'{member}: key file {path} must hold {KEY_BYTES} bytes as '
                         f'{2 * KEY_BYTES} hex digits')
    return bytes.fromhex(text)


def write_key_files(ids: Iterable[str], out_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write a fresh random key per member as ``out_dir/<id>.key`` (mode 0600; dir 0700).

    Existing key files are kept unless `overwrite`: replacing a key locks its robot out.
    """
    out_dir = Path(out_dir)
    ids = [check_member_id(i, 'keys') for i in ids]
    targets = [out_dir / f'{i}{KEY_SUFFIX}' for i in ids]
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise InputError(f'{existing[0]}: key file exists; pass --force to replace the keys')
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in targets:
        if overwrite:
            path.unlink(missing_ok=True)
        # Written aside, then linked in: another process starting the same fleet never reads a
        # half-written key, and a key someone else made first is kept (FileExistsError).
        fd, staged = tempfile.mkstemp(dir=out_dir, prefix=f'.{path.name}.')  # mode 0600
        try:
            with os.fdopen(fd, 'w', encoding='ascii') as out:
                out.write(secrets.token_hex(KEY_BYTES) + '\n')
            os.link(staged, path)
        finally:
            os.unlink(staged)
    return targets


def _text(value: str) -> bytes:
    # surrogatepass: a hostile string with lone surrogates must still frame, not crash.
    return value.encode('utf-8', 'surrogatepass')


def _framed(parts: Iterable[bytes]) -> bytes:
    return b''.join(struct.pack('>I', len(p)) + p for p in parts)


def blob_signing_bytes(blob: WireBlob) -> bytes:
    """The exact bytes a blob signature covers (layout in the module docstring).

    Raises ValueError or TypeError when a field does not fit its wire type (e.g. round < 0).
    """
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
        hashlib.sha256(blob.payload).digest(),
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


def sign_profile(profile: WireProfile, key: bytes) -> str:
    return _mac(key, profile_signing_bytes(profile))


def verify_profile(profile: WireProfile, signature: str, key: bytes) -> bool:
    """True when `signature` is `key`'s signature of exactly this profile."""
    return _matches(key, profile_signing_bytes, profile, signature)
