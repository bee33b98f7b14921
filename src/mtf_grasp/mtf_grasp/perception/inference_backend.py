"""Run a grasp network's forward pass with eager torch or onnxruntime, behind one call.

Both take a 1×C×S×S float32 array and return the 4×S×S output maps as a numpy array.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

BACKENDS = ('torch', 'onnxruntime')


class TorchBackend:
    name = 'torch'

    def __init__(self, model, *, device: str = 'cpu', threads: int = 0):
        import torch

        if threads > 0:
            torch.set_num_threads(threads)   # process-wide: a node process runs one model
        self._torch = torch
        self._device = torch.device(device)
        # Channels-last convolutions are ~10 % faster on CPU (oneDNN's native layout).
        self._layout = torch.channels_last
        self._model = model.to(self._device, memory_format=self._layout).eval()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            out = self._model(self._torch.from_numpy(x).to(self._device, memory_format=self._layout))
        return out[0].float().cpu().numpy()


class OnnxBackend:
    name = 'onnxruntime'

    def __init__(self, model, *, device: str = 'cpu', threads: int = 0):
        import onnxruntime as ort

        from mtf_grasp.grasping.onnx_export import export_onnx

        providers = ['CUDAExecutionProvider', 'CPUExecutionProvider'] if device.startswith('cuda') \
            else ['CPUExecutionProvider']
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        with tempfile.TemporaryDirectory(prefix='mtf-onnx-') as tmp:
            path = Path(tmp) / 'model.onnx'
            export_onnx(model, model.spec, path)
            self._session = ort.InferenceSession(str(path), options, providers=providers)   # reads it all
        self._input = self._session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: x})[0][0]


def make_backend(model, *, backend: str, device: str = 'cpu', threads: int = 0):
    """A callable running `model` (with `model.spec`) on `backend` ('torch' or 'onnxruntime') with
    `threads` CPU threads (0: the library's default, one per core)."""
    if backend == 'torch':
        return TorchBackend(model, device=device, threads=threads)
    if backend == 'onnxruntime':
        return OnnxBackend(model, device=device, threads=threads)
    raise ValueError(f'backend {backend!r} is not one of {", ".join(BACKENDS)}')
