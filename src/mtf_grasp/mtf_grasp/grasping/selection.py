"""Choosing samples by position in a dataset's name order: "A:B" like a Python slice."""
from __future__ import annotations

from mtf_grasp.errors import InputError


def sample_range(text: str, count: int, *, what: str = 'samples') -> list[int]:
    """Indices selected by 'A:B' ('' or ':' = all; either end may be empty or negative)."""
    text = text.strip()
    if text in ('', ':'):
        return list(range(count))
    start, sep, stop = text.partition(':')
    try:
        if not sep:
            raise ValueError
        bounds = slice(int(start) if start.strip() else None, int(stop) if stop.strip() else None)
    except ValueError:
        raise InputError(f'{what} {text!r}: expected START:END, e.g. 0:400 or 400:') from None
    picked = list(range(count))[bounds]
    if not picked:
        raise InputError(f'{what} {text!r} selects none of the {count} samples')
    return picked
