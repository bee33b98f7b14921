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


PRECISIONS = ('fp32', 'bf16', 'auto')


def native_bf16_cpu() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX), as oneDNN needs for bf16
    to beat fp32."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def resolve_precision(name: str, device: str) -> str:
    """'fp32' or 'bf16' for training on `device`; 'auto' takes bf16 where the hardware has it."""
    if name not in PRECISIONS:
        raise InputError(f"precision {name!r} is not one of {', '.join(PRECISIONS)}")
    if name != 'auto':
        return name
    if device.startswith('cuda'):
        return 'bf16' if torch.cuda.is_bf16_supported() else 'fp32'
    return 'bf16' if native_bf16_cpu() else 'fp32'


def describe_machine(device: str, precision: str) -> dict:
    """Where a result was computed: results from two CPUs or precisions are not bit-comparable."""
    import platform

    processor = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as cpuinfo:
            processor = next(line.split(':', 1)[1].strip() for line in cpuinfo if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    name = torch.cuda.get_device_name(device) if device.startswith('cuda') else processor
    return {'device': device, 'name': name, 'cpu': processor, 'torch': torch.__version__,
            'precision': resolve_precision(precision, device)}
