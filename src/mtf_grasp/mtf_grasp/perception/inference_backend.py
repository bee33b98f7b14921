"""Run a grasp network's forward pass with eager torch or onnxruntime, behind one call.

Both take a 1×C×S×S float32 array and return the 4×S×S output maps as a numpy array.
"""
from __future__ import annotations

import io
import warnings

import numpy as np

BACKENDS = ('torch', 'onnxruntime')


class TorchBackend:
    name = 'torch'

    def __init__(self, model, *, device: str = 'cpu'):
        import torch

        self._torch = torch
        self._device = torch.device(device)
        self._model = model.to(self._device).eval()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            out = self._model(self._torch.from_numpy(x).to(self._device))
        return out[0].float().cpu().numpy()


class OnnxBackend:
    name = 'onnxruntime'

    def __init__(self, model, *, input_size: int, in_channels: int, device: str = 'cpu'):
        import onnxruntime as ort

        providers = ['CUDAExecutionProvider', 'CPUExecutionProvider'] if device.startswith('cuda') \
            else ['CPUExecutionProvider']
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(onnx_bytes(model, input_size=input_size, in_channels=in_channels),
                                             options, providers=providers)
        self._input = self._session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: x})[0][0]


def onnx_bytes(model, *, input_size: int, in_channels: int) -> bytes:
    """The model as an in-memory ONNX graph (fixed 1×C×S×S input), for onnxruntime."""
    import torch

    buffer = io.BytesIO()
    example = torch.zeros(1, in_channels, input_size, input_size)
    with warnings.catch_warnings():
        # The TorchScript exporter needs no onnxscript and handles these plain conv nets.
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.onnx.export(model.cpu().eval(), (example,), buffer, dynamo=False, input_names=['x'],
                          output_names=['maps'], opset_version=17)
    return buffer.getvalue()


def make_backend(model, *, backend: str, device: str = 'cpu'):
    """A callable running `model` (with `model.spec`) on `backend` ('torch' or 'onnxruntime')."""
    if backend == 'torch':
        return TorchBackend(model, device=device)
    if backend == 'onnxruntime':
        return OnnxBackend(model, input_size=model.spec.input_size, in_channels=model.spec.in_channels,
                           device=device)
    raise ValueError(f'backend {backend!r} is not one of {", ".join(BACKENDS)}')
