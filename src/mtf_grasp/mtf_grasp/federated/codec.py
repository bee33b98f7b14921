"""Model codec: state_dict ⇄ safetensors bytes (fp32 or fp16) with integrity and shape checks.

What arrives over the wire is never unpickled: safetensors holds only raw tensors and a JSON
header, and `decode_state` checks size, sha256, architecture, tensor names, shapes, dtypes and
finiteness before anything reaches a model.
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Mapping

import torch

ENCODINGS = {'safetensors-fp32': torch.float32, 'safetensors-fp16': torch.float16}
_SPEC_KEY = 'mtf_grasp.spec'
# A safetensors header lists names, dtypes, shapes and offsets: a few hundred bytes per tensor.
_HEADER_LIMIT = 1 << 20


class ModelFault(enum.StrEnum):
    """What was wrong with a payload; the admission check counts these codes."""

    BAD_ENCODING = 'bad_encoding'
    OVERSIZE = 'oversize'
    BAD_SHA256 = 'bad_sha256'
    WRONG_ARCHITECTURE = 'wrong_architecture'
    UNDECODABLE = 'undecodable'
    WRONG_TENSORS = 'wrong_tensors'          # names, shapes or dtypes differ from the model's
    NON_FINITE = 'non_finite'


class ModelRejected(ValueError):
    """An incoming model failed a check: `fault` is its code, `detail` one line of explanation."""

    def __init__(self, fault: ModelFault, detail: str):
        super().__init__(detail)
        self.fault = fault
        self.detail = detail


@dataclass(frozen=True)
class EncodedModel:
    """Wire form of a model: safetensors bytes, their sha256 and what they hold."""

    payload: bytes
    sha256: str
    encoding: str
    metadata_json: str
    num_params: int  # floating-point elements (|θ|), the quantity the traffic accounting counts

    @property
    def parameter_bytes(self) -> int:
        """|θ|·(bytes per parameter): the tensor data of the floating-point entries."""
        return self.num_params * ENCODINGS[self.encoding].itemsize


def encoding_name(dtype: str) -> str:
    """'fp32' -> 'safetensors-fp32'; unknown names raise ValueError."""
    name = f'safetensors-{dtype}'
    if name not in ENCODINGS:
        raise ValueError(f'unknown model dtype {dtype!r} (known: fp32, fp16)')
    return name


def spec_json(spec) -> str:
    """Canonical JSON of a ModelSpec, the architecture identity checked on decode."""
    return json.dumps(dataclasses.asdict(spec), sort_keys=True)


def encode_state(state: Mapping[str, torch.Tensor], *, spec, dtype: str = 'fp32') -> EncodedModel:
    """Serialise a state_dict; floating tensors are cast to `dtype`, integer ones kept as they are."""
    from safetensors.torch import save

    encoding = encoding_name(dtype)
    wire_dtype = ENCODINGS[encoding]
    tensors = {}
    num_params = 0
    for name, value in state.items():
        value = value.detach().cpu()
        if value.dtype.is_floating_point:
            value = value.to(wire_dtype)
            num_params += value.numel()
        tensors[name] = value.contiguous()
    metadata = spec_json(spec)
    payload = save(tensors, metadata={_SPEC_KEY: metadata})
    return EncodedModel(payload=payload, sha256=hashlib.sha256(payload).hexdigest(),
                        encoding=encoding, metadata_json=metadata, num_params=num_params)


# Building a model to learn its layout costs milliseconds; a server decodes many blobs per round.
_LAYOUTS: dict[str, dict[str, tuple[tuple[int, ...], torch.dtype]]] = {}


def expected_layout(spec) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Names, shapes and dtypes of the state_dict of the model `spec` builds."""
    from mtf_grasp.grasping import build_model

    key = spec_json(spec)
    if key not in _LAYOUTS:
        _LAYOUTS[key] = {k: (tuple(v.shape), v.dtype) for k, v in build_model(spec).state_dict().items()}
    return _LAYOUTS[key]


def decode_state(payload: bytes, *, sha256: str, encoding: str, expected_spec) -> dict[str, torch.Tensor]:
    """Check and deserialise a payload made by `encode_state`; raise ModelRejected on any mismatch.

    Floating tensors come back in the model's own dtype (fp16 payloads are widened).
    """
    from safetensors.torch import load

    if encoding not in ENCODINGS:
        raise ModelRejected(ModelFault.BAD_ENCODING, f'unknown encoding {encoding!r}')
    wire_dtype = ENCODINGS[encoding]
    layout = expected_layout(expected_spec)
    data_bytes = sum(_numel(shape) * (wire_dtype.itemsize if dtype.is_floating_point else dtype.itemsize)
                     for shape, dtype in layout.values())
    if len(payload) > 8 + _HEADER_LIMIT + data_bytes:
        raise ModelRejected(ModelFault.OVERSIZE, f'payload of {len(payload)} bytes exceeds the {data_bytes}-byte model '
                            f'plus header limit')
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise ModelRejected(ModelFault.BAD_SHA256, f'sha256 mismatch: payload hashes to {digest[:12]}…, blob says {sha256[:12]}…')
    header = _read_header(payload)
    metadata = header.get('__metadata__', {})
    if not isinstance(metadata, dict):
        raise ModelRejected(ModelFault.UNDECODABLE, 'unparsable safetensors payload (__metadata__ is not a mapping)')
    got_spec = metadata.get(_SPEC_KEY)
    expected = spec_json(expected_spec)
    if got_spec != expected:
        raise ModelRejected(ModelFault.WRONG_ARCHITECTURE, f'architecture mismatch: payload is {got_spec}, expected {expected}')
    try:
        tensors = load(bytes(payload))
    except Exception as exc:  # safetensors raises its own error types for malformed bytes
        raise ModelRejected(ModelFault.UNDECODABLE, f'unparsable safetensors payload ({exc})') from None
    return _checked(tensors, layout=layout, wire_dtype=wire_dtype)


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def _read_header(payload: bytes) -> dict:
    if len(payload) < 8:
        raise ModelRejected(ModelFault.UNDECODABLE, 'unparsable safetensors payload (shorter than its length prefix)')
    (length,) = struct.unpack('<Q', payload[:8])
    if length > _HEADER_LIMIT or 8 + length > len(payload):
        raise ModelRejected(ModelFault.UNDECODABLE, f'unparsable safetensors payload (header length {length})')
    try:
        header = json.loads(payload[8:8 + length])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelRejected(ModelFault.UNDECODABLE, 'unparsable safetensors payload (header is not JSON)') from None
    if not isinstance(header, dict):
        raise ModelRejected(ModelFault.UNDECODABLE, 'unparsable safetensors payload (header is not a mapping)')
    return header


def _checked(tensors: dict[str, torch.Tensor], *, layout, wire_dtype: torch.dtype) -> dict[str, torch.Tensor]:
    if tensors.keys() != layout.keys():
        extra = sorted(set(tensors) - set(layout))
        missing = sorted(set(layout) - set(tensors))
        raise ModelRejected(ModelFault.WRONG_TENSORS, f'tensor names differ: unexpected {extra[:3]}, missing {missing[:3]}')
    state = {}
    for name, (shape, dtype) in layout.items():
        value = tensors[name]
        if tuple(value.shape) != shape:
            raise ModelRejected(ModelFault.WRONG_TENSORS, f'{name}: shape {tuple(value.shape)}, expected {shape}')
        want = wire_dtype if dtype.is_floating_point else dtype
        if value.dtype != want:
            raise ModelRejected(ModelFault.WRONG_TENSORS, f'{name}: dtype {value.dtype}, expected {want}')
        if dtype.is_floating_point:
            if not torch.isfinite(value).all():
                raise ModelRejected(ModelFault.NON_FINITE, f'{name}: contains NaN or Inf')
            value = value.to(dtype)
        state[name] = value
    return state
