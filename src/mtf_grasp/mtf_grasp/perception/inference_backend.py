"""Run a grasp network's forward pass with eager torch or onnxruntime, behind one call.

Both take a 1×C×S×S float32 array and return the 4×S×S output maps as a float32 numpy array.
Torch can also run the network in bfloat16 (`precision='bf16'`), which pays only on CPUs that
multiply bfloat16 natively (AVX512-BF16 or AMX). Onnxruntime can run the network's heaviest
convolution in int8 (`precision='int8'`, with calibration inputs for its activation ranges). What
each costs and how accurate it stays is measured in docs/performance.md.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from mtf_grasp.grasping.device import native_bf16_cpu

BACKENDS = ('torch', 'onnxruntime')
PRECISIONS = ('fp32', 'bf16', 'int8')


class TorchBackend:
    name = 'torch'

    def __init__(self, model, *, device: str = 'cpu', threads: int = 0, precision: str = 'fp32'):
        import torch

        if threads > 0:
            torch.set_num_threads(threads)   # process-wide: a node process runs one model
        self._torch = torch
        self._device = torch.device(device)
        if precision == 'bf16' and self._device.type == 'cpu' and not native_bf16_cpu():
            raise ValueError('precision bf16: this CPU has neither AVX512-BF16 nor AMX, so bfloat16 would be '
                             'emulated and slower than fp32; use precision fp32')
        self._dtype = torch.bfloat16 if precision == 'bf16' else torch.float32
        # Channels-last convolutions are ~10 % faster on CPU (oneDNN's native layout).
        self._layout = torch.channels_last
        self._model = model.to(self._device, dtype=self._dtype, memory_format=self._layout).eval()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            x = self._torch.from_numpy(x).to(self._device, dtype=self._dtype, memory_format=self._layout)
            out = self._model(x)
        # Back to plain C order: channels-last maps would make decoding stride through all four.
        return out[0].float().cpu().contiguous().numpy()


class OnnxBackend:
    name = 'onnxruntime'

    def __init__(self, model, *, device: str = 'cpu', threads: int = 0, calibration: Sequence[np.ndarray] = ()):
        """With `calibration` inputs, the heaviest convolution runs in int8 (`quantize_heaviest_conv`)."""
        import onnxruntime as ort

        from mtf_grasp.grasping.onnx_export import export_onnx, quantize_heaviest_conv

        providers = ['CUDAExecutionProvider', 'CPUExecutionProvider'] if device.startswith('cuda') \
            else ['CPUExecutionProvider']
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        # Park the intra-op threads as soon as a run ends: by default they spin ~40 ms on the cores
        # that the node then needs to publish the grasps and the consumer needs to receive them.
        options.add_session_config_entry('session.force_spinning_stop', '1')
        with tempfile.TemporaryDirectory(prefix='mtf-onnx-') as tmp:
            path = fp32 = Path(tmp) / 'model.onnx'
            export_onnx(model, model.spec, fp32)
            if len(calibration):
                path = Path(tmp) / 'model_int8.onnx'
                quantize_heaviest_conv(fp32, path, calibration)
            self._session = ort.InferenceSession(str(path), options, providers=providers)   # reads it all
        self._input = self._session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: x})[0][0]


def check_runtime(backend: str, precision: str) -> None:
    """ValueError, in one line, for a backend/precision pair that cannot run."""
    if backend not in BACKENDS:
        raise ValueError(f'backend {backend!r} is not one of {", ".join(BACKENDS)}')
    if precision not in PRECISIONS:
        raise ValueError(f'precision {precision!r} is not one of {", ".join(PRECISIONS)}')
    needs = {'bf16': 'torch', 'int8': 'onnxruntime'}.get(precision, backend)
    if backend != needs:
        raise ValueError(f'precision {precision} needs backend {needs} (backend {backend} runs '
                         f'{"fp32 and int8" if backend == "onnxruntime" else "fp32 and bf16"})')


def make_backend(model, *, backend: str, device: str = 'cpu', threads: int = 0, precision: str = 'fp32',
                 calibration: Sequence[np.ndarray] = ()):
    """A callable running `model` (with `model.spec`) on `backend` ('torch' or 'onnxruntime') with
    `threads` CPU threads (0: the library's default, one per core), in `precision`: 'fp32', 'bf16'
    (torch) or 'int8' (onnxruntime; `calibration`: the 1×C×S×S inputs its activation ranges come from)."""
    check_runtime(backend, precision)
    if backend == 'torch':
        return TorchBackend(model, device=device, threads=threads, precision=precision)
    if precision == 'int8' and not len(calibration):
        raise ValueError('precision int8 needs calibration inputs')
    return OnnxBackend(model, device=device, threads=threads, calibration=calibration if precision == 'int8' else ())
