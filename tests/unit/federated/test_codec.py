import dataclasses
import hashlib
import json
import struct

import pytest
import torch

from mtf_grasp.federated import ModelRejected, decode_state, encode_state
from mtf_grasp.federated.admission import RejectReason
from mtf_grasp.federated.codec import ModelFault
from mtf_grasp.grasping import ModelSpec, build_model

SPEC = ModelSpec(arch='ggcnn2', channels='depth', input_size=32)


@pytest.fixture(scope='module')
def state():
    torch.manual_seed(0)
    return build_model(SPEC).state_dict()


def _decode(encoded, spec=SPEC, payload=None, sha=None):
    payload = encoded.payload if payload is None else payload
    sha = hashlib.sha256(payload).hexdigest() if sha is None else sha
    return decode_state(payload, sha256=sha, encoding=encoded.encoding, expected_spec=spec)


def test_fp32_round_trip_is_exact(state):
    encoded = encode_state(state, spec=SPEC, dtype='fp32')
    assert encoded.encoding == 'safetensors-fp32'
    assert encoded.sha256 == hashlib.sha256(encoded.payload).hexdigest()
    assert json.loads(encoded.metadata_json)['arch'] == 'ggcnn2'
    floats = sum(v.numel() for v in state.values() if v.dtype.is_floating_point)
    assert encoded.num_params == floats and encoded.parameter_bytes == 4 * floats
    decoded = _decode(encoded)
    assert decoded.keys() == state.keys()
    for key in state:
        assert torch.equal(decoded[key], state[key]) and decoded[key].dtype == state[key].dtype
    build_model(SPEC).load_state_dict(decoded)


def test_fp16_halves_the_parameter_bytes(state):
    full = encode_state(state, spec=SPEC, dtype='fp32')
    half = encode_state(state, spec=SPEC, dtype='fp16')
    assert half.parameter_bytes * 2 == full.parameter_bytes
    assert len(half.payload) < 0.6 * len(full.payload)
    decoded = _decode(half)
    key = 'features.0.0.weight' if 'features.0.0.weight' in state else next(iter(state))
    assert decoded[key].dtype == torch.float32
    torch.testing.assert_close(decoded[key], state[key].half().float())


def test_wrong_hash_is_rejected(state):
    encoded = encode_state(state, spec=SPEC)
    with pytest.raises(ModelRejected, match='sha256 mismatch'):
        _decode(encoded, sha='0' * 64)
    tampered = bytearray(encoded.payload)
    tampered[-1] ^= 0xFF
    with pytest.raises(ModelRejected, match='sha256 mismatch'):
        _decode(encoded, payload=bytes(tampered), sha=encoded.sha256)


def test_wrong_architecture_is_rejected(state):
    encoded = encode_state(state, spec=SPEC)
    with pytest.raises(ModelRejected, match='architecture mismatch'):
        _decode(encoded, spec=dataclasses.replace(SPEC, input_size=64))
    other = ModelSpec(arch='grconvnet', channels='depth', width=8, input_size=32)
    with pytest.raises(ModelRejected) as info:
        _decode(encoded, spec=other)
    assert isinstance(info.value, ValueError) and info.value.fault is ModelFault.WRONG_ARCHITECTURE


def test_every_codec_fault_is_an_admission_reject_code():
    assert {fault.value for fault in ModelFault} <= {reason.value for reason in RejectReason}


def test_wrong_shape_names_and_values_are_rejected(state):
    name = next(k for k, v in state.items() if v.dim() == 4)
    reshaped = dict(state)
    reshaped[name] = torch.zeros(state[name].shape[0] + 1, *state[name].shape[1:])
    with pytest.raises(ModelRejected, match=f'{name}: shape'):
        _decode(encode_state(reshaped, spec=SPEC))
    renamed = {('x' + k if k == name else k): v for k, v in state.items()}
    with pytest.raises(ModelRejected, match='tensor names differ'):
        _decode(encode_state(renamed, spec=SPEC))
    poisoned = dict(state)
    poisoned[name] = state[name].clone()
    poisoned[name].view(-1)[3] = float('nan')
    with pytest.raises(ModelRejected, match='NaN or Inf'):
        _decode(encode_state(poisoned, spec=SPEC))


def test_wrong_dtype_is_rejected(state):
    encoded = encode_state(state, spec=SPEC, dtype='fp16')
    with pytest.raises(ModelRejected, match='dtype'):
        decode_state(encoded.payload, sha256=encoded.sha256, encoding='safetensors-fp32', expected_spec=SPEC)
    with pytest.raises(ModelRejected, match='unknown encoding'):
        decode_state(encoded.payload, sha256=encoded.sha256, encoding='pickle', expected_spec=SPEC)


def test_garbage_and_oversize_payloads_are_rejected(state):
    encoded = encode_state(state, spec=SPEC)
    for garbage in (b'', b'\x01\x02', struct.pack('<Q', 10) + b'not json!!' + b'\0' * 64,
                    struct.pack('<Q', 1 << 40) + b'{}'):
        with pytest.raises(ModelRejected, match='unparsable'):
            _decode(encoded, payload=garbage)
    with pytest.raises(ModelRejected, match='exceeds'):
        _decode(encoded, payload=encoded.payload + b'\0' * (2 << 20))
    # a valid header whose offsets point past the data
    header = encoded.payload[8:8 + struct.unpack('<Q', encoded.payload[:8])[0]]
    truncated = encoded.payload[:8] + header + b'\0' * 16
    with pytest.raises(ModelRejected, match='unparsable'):
        _decode(encoded, payload=truncated)
