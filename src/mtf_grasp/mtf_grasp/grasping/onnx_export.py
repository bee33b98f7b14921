"""ONNX export of a grasp network, checked against torch with onnxruntime, and its int8 variant."""
from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Sequence

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


def heaviest_conv(path: str | Path) -> str:
    """Name of the Conv node with the most multiply-adds per image (for GR-ConvNet the 9×9
    full-resolution decoder convolution, a third of the forward pass)."""
    import onnx

    graph = onnx.shape_inference.infer_shapes(onnx.load(str(path))).graph
    kernels = {t.name: int(np.prod(t.dims)) for t in graph.initializer}
    spatial = {v.name: int(np.prod([d.dim_value for d in v.type.tensor_type.shape.dim[2:]]))
               for v in [*graph.value_info, *graph.output]}
    convs = [(spatial[n.output[0]] * kernels[n.input[1]], n.name) for n in graph.node
             if n.op_type == 'Conv' and n.input[1] in kernels and n.output[0] in spatial]
    if not convs:
        raise ValueError(f'{path}: no convolution with known weights and output size')
    return max(convs)[1]


def quantize_heaviest_conv(src: str | Path, dst: str | Path, calibration: Sequence[np.ndarray]) -> str:
    """Write `src` to `dst` with its heaviest convolution in int8 (static: activation ranges are the
    min/max over the `calibration` inputs, each 1×C×S×S; weights per output channel) and
    everything else in fp32. Returns the quantized node's name.

    One layer, not all: on two Zen 4 cores this one alone takes a 224² GR-ConvNet w16 from about
    30 to 24-25 ms, and the layers that see raw depth or the bottleneck keep full precision."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    if not calibration:
        raise ValueError('int8 needs at least one calibration input')
    node = heaviest_conv(src)

    class Inputs(CalibrationDataReader):
        def __init__(self):
            self._inputs = iter(calibration)

        def get_next(self):
            x = next(self._inputs, None)
            return None if x is None else {'input': np.asarray(x, np.float32)}

    # It logs advice to run its pre-processing pass first (shape inference and fusions, which
    # onnxruntime applies anyway when it loads the file).
    logging.disable(logging.WARNING)
    try:
        quantize_static(str(src), str(dst), Inputs(), nodes_to_quantize=[node], quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    finally:
        logging.disable(logging.NOTSET)
    return node
