"""Networks, the one output contract, model files (safetensors + JSON header) and ONNX export."""
import json

import numpy as np
import pytest
import torch

from mtf_grasp.errors import InputError
from mtf_grasp.grasping import ModelSpec, build_model, load_model, read_model_meta, save_model, state_to_model
from mtf_grasp.grasping.onnx_export import (export_onnx, heaviest_conv, onnx_max_difference, onnx_spec,
                                            quantize_heaviest_conv)

SPECS = [ModelSpec(arch='grconvnet', channels='rgbd', width=16, input_size=32),
         ModelSpec(arch='grconvnet', channels='depth', width=32, input_size=32),
         ModelSpec(arch='grconvnet', channels='rgb', width=16, input_size=32, norm='group'),
         ModelSpec(arch='ggcnn2', channels='depth', input_size=32)]


@pytest.mark.parametrize('spec', SPECS, ids=lambda s: f'{s.arch}-{s.channels}-w{s.width}-{s.norm}')
def test_every_network_maps_input_to_four_maps(spec):
    model = build_model(spec).eval()
    with torch.no_grad():
        out = model(torch.randn(2, spec.in_channels, 32, 32))
    assert out.shape == (2, 4, 32, 32)
    assert 0 <= float(out[:, 0].min()) and float(out[:, 0].max()) <= 1   # quality is a probability
    assert model.spec == spec


def test_lite_is_smaller_than_full():
    def count(width):
        return sum(p.numel() for p in build_model(ModelSpec(width=width, input_size=32)).parameters())
    assert count(16) < count(32) / 3


def test_bad_spec_values_are_refused():
    for bad in ({'arch': 'resnet'}, {'channels': 'rgbdx'}, {'width': 12}, {'input_size': 30}, {'norm': 'layer'}):
        with pytest.raises(ValueError):
            ModelSpec(**bad)
    assert ModelSpec.from_json(SPECS[3].to_json()) == SPECS[3]


def test_model_file_round_trip_keeps_weights_statistics_and_metadata(tmp_path):
    spec = SPECS[0]
    torch.manual_seed(0)
    model = build_model(spec)
    model.train()
    model(torch.randn(4, 4, 32, 32))           # move the BatchNorm running statistics off their defaults
    model.eval()
    path = tmp_path / 'm.safetensors'
    save_model(path, model, spec, extra_meta={'round': 3})
    loaded, loaded_spec, meta = load_model(path)
    assert loaded_spec == spec and meta['round'] == 3 and meta['spec'] == json.loads(spec.to_json())
    x = torch.randn(1, 4, 32, 32)
    assert torch.equal(loaded(x), model(x))
    assert read_model_meta(path)['round'] == 3
    assert torch.equal(state_to_model(model.state_dict(), spec).eval()(x), model(x))


def test_bad_model_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match='no such model file'):
        load_model(tmp_path / 'missing.safetensors')
    junk = tmp_path / 'junk.safetensors'
    junk.write_bytes(b'\x00' * 64)
    with pytest.raises(InputError, match='junk.safetensors: not a safetensors model file'):
        load_model(junk)
    wrong = tmp_path / 'wrong.safetensors'
    save_model(wrong, build_model(SPECS[3]), SPECS[0])     # GG-CNN2 weights labelled as GR-ConvNet
    with pytest.raises(InputError, match='weights do not fit grconvnet'):
        load_model(wrong)


@pytest.mark.parametrize('spec', [SPECS[0], SPECS[3]], ids=['grconvnet', 'ggcnn2'])
def test_onnx_matches_torch(tmp_path, spec):
    torch.manual_seed(1)
    model = build_model(spec).eval()
    path = tmp_path / 'm.onnx'
    export_onnx(model, spec, path)
    assert onnx_max_difference(model, spec, path, batch=3) < 1e-4
    assert onnx_spec(path) == spec


def test_int8_quantizes_only_the_heaviest_convolution(tmp_path):
    import onnx
    import onnxruntime

    torch.manual_seed(2)
    spec = SPECS[0]
    model = build_model(spec).eval()
    export_onnx(model, spec, tmp_path / 'm.onnx')
    # The 9×9 full-resolution decoder conv: 32² · 16 · 16 · 81 multiply-adds, the first conv has 4 inputs.
    assert heaviest_conv(tmp_path / 'm.onnx') == '/decoder/decoder.2/Conv'
    x = np.random.default_rng(0).random((1, spec.in_channels, 32, 32), np.float32)
    with pytest.raises(ValueError, match='at least one calibration input'):
        quantize_heaviest_conv(tmp_path / 'm.onnx', tmp_path / 'q.onnx', [])
    assert quantize_heaviest_conv(tmp_path / 'm.onnx', tmp_path / 'q.onnx', [x]) == '/decoder/decoder.2/Conv'
    nodes = onnx.load(str(tmp_path / 'q.onnx')).graph.node
    quantized = {n.output[0] for n in nodes if n.op_type == 'DequantizeLinear'}
    assert [n.name for n in nodes if n.op_type == 'Conv' and set(n.input) & quantized] == ['/decoder/decoder.2/Conv']
    got, want = (onnxruntime.InferenceSession(str(tmp_path / f), providers=['CPUExecutionProvider'])
                 .run(None, {'input': x})[0] for f in ('q.onnx', 'm.onnx'))
    assert not np.array_equal(got, want)
    np.testing.assert_allclose(got, want, atol=0.05 * np.abs(want).max())
