"""The fleet's HMAC keys as a node holds them, from its `roster` parameter (`id=key_file` items)."""
from __future__ import annotations

from mtf_grasp.errors import InputError
from mtf_grasp.federated.roster import roster_from_mapping


def roster_keys(roster: list[str]) -> dict[str, bytes]:
    """Member id -> key, read from the key files (checked like `mtf-grasp keys` writes them)."""
    files = {}
    for entry in roster:
        member, separator, path = entry.partition('=')
        if not separator or not path:
            raise InputError(f'parameter roster: {entry!r} is not id=key_file')
        files[member] = path
    if not files:
        raise InputError('parameter roster is empty: the fleet needs its members and their key files')
    return roster_from_mapping(files, source='parameter roster', base_dir='.').load_keys()
