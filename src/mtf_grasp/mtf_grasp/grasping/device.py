"""Choosing where to compute: the CPU by default, the GPU when asked for and present."""
from __future__ import annotations

import torch

from mtf_grasp.errors import InputError


def resolve_device(name: str = 'auto') -> str:
    """'auto' -> 'cuda' when a GPU is present, else 'cpu'; 'cuda' without a GPU is an InputError."""
    if name == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if name.startswith('cuda') and not torch.cuda.is_available():
        raise InputError(f'device {name!r}: no CUDA GPU is available here')
    if name != 'cpu' and not name.startswith('cuda'):
        raise InputError(f"device {name!r} is not 'auto', 'cpu' or 'cuda[:N]'")
    return name
