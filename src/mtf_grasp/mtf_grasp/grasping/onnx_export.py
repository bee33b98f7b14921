"""ONNX export of a grasp network, checked against torch with onnxruntime."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from mtf_grasp.grasping.model_spec import ModelSpec


def export_onnx(model: torch.nn.Module, spec: ModelSpec, path: str | Path, *, opset: int = 17) -> None:
    """Write `model` (eval mode, CPU) as ONNX with a dynamic batch axis and the spec in its metadata."""
    import onnx

    model = model.cpu().eval()
    dummy = torch.zeros(1, spec.in_channels, spec.input_size, spec.input_size)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the TorchScript exporter announces its deprecation
        torch.onnx.export(model, (dummy,), str(path), dynamo=False, opset_version=opset,
                          input_names=['input'], output_names=['maps'],
                          dynamic_axes={'input': {0: 'batch'}, 'maps': {0: 'batch'}})
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = 'mtf_grasp_spec', spec.to_json()
    onnx.save(proto, str(path))


def onnx_max_difference(model: torch.nn.Module, spec: ModelSpec, path: str | Path, *, batch: int = 2,
                        seed: int = 0) -> float:
    """Largest |onnxruntime − torch| over the four output maps for a seeded random input batch."""
    import onnxruntime

    x = torch.from_numpy(np.random.default_rng(seed).standard_normal(
        (batch, spec.in_channels, spec.input_size, spec.input_size)).astype(np.float32))
    with torch.no_grad():
        expected = model.cpu().eval()(x).numpy()
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = session.run(None, {'input': x.numpy()})[0]
    return float(np.abs(got - expected).max())


def onnx_spec(path: str | Path) -> ModelSpec:
    """The ModelSpec stored in an exported file's metadata."""
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return ModelSpec.from_json(props['mtf_grasp_spec'])
