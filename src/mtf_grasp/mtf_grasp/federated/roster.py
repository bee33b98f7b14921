"""Who may take part in the fleet: the roster of member ids and their HMAC key files.

The ``roster:`` section of a fleet config maps each member id (robots and ``server``) to the file
that holds its key. Key files hold 32 random bytes as 64 hex digits and must not be readable by
group or others (like ssh keys); `write_key_files` makes them. `signing` uses the keys.
"""
from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from mtf_grasp.configfile import load_yaml
from mtf_grasp.errors import InputError

ROSTER_SECTION = 'roster'
KEY_BYTES = 32
KEY_SUFFIX = '.key'
# Ids become file names and ROS names: no path separators, no dots.
_MEMBER_ID = re.compile(r'[A-Za-z][A-Za-z0-9_]{0,63}\Z')


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
