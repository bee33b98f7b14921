"""Typed configs from YAML: dataclasses filled from mappings with errors that name the field."""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

from mtf_grasp.errors import InputError

T = TypeVar('T')


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing file, bad syntax or a non-mapping top level is an InputError."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InputError(f'{path}: no such config file') from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = f':{mark.line + 1}' if mark else ''
        raise InputError(f'{path}{where}: invalid YAML ({getattr(exc, "problem", exc)})') from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f'{path}: expected a mapping at the top level, got {type(data).__name__}')
    return data


def load_json_object(path: str | Path, *, missing: str = 'no such file') -> dict[str, Any]:
    """Read a JSON object; a missing file (`missing` says what it is), bad JSON or another
    top-level type is an InputError naming the file (and line)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f'{path}: {missing}') from None
    except json.JSONDecodeError as exc:
        raise InputError(f'{path}:{exc.lineno}: invalid JSON ({exc.msg})') from None
    if not isinstance(data, dict):
        raise InputError(f'{path}: expected a JSON object')
    return data


def from_mapping(cls: type[T], data: Mapping[str, Any] | None, source: str) -> T:
    """Build dataclass `cls` from `data`; unknown keys and wrong types name `source.field`.

    Nested dataclass fields are built recursively; ints are accepted where floats are expected.
    """
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(f'{source}: unknown field {unknown[0]!r} (known: {", ".join(sorted(fields))})')
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f'{source}.{name}')
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InputError(f'{source}: {exc}') from None
    except ValueError as exc:
        raise InputError(f'{source}: {exc}') from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise InputError(f'{where}: expected a mapping, got {value!r}')
        return from_mapping(hint, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, where)
            except InputError:
                continue
        raise InputError(f'{where}: {value!r} does not match {hint}')
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise InputError(f'{where}: expected a list, got {value!r}')
        item = args[0] if args else Any
        items = [_coerce(item, v, f'{where}[{i}]') for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise InputError(f'{where}: expected a mapping, got {value!r}')
        item = args[1] if len(args) == 2 else Any
        return {key: _coerce(item, v, f'{where}.{key}') for key, v in value.items()}
    if origin is typing.Literal:
        if value not in args:
            raise InputError(f'{where}: {value!r} is not one of {", ".join(map(repr, args))}')
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f'{where}: expected a number, got {value!r}')
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f'{where}: expected an integer, got {value!r}')
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f'{where}: expected true or false, got {value!r}')
        return value
    if hint is str:
        if not isinstance(value, str):
            raise InputError(f'{where}: expected a string, got {value!r}')
        return value
    return value
