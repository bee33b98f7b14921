"""Property tests: generated malformed and forged blobs thrown at the decoder and the guard.

Six properties, 1200 examples per run, on a real 66 k-parameter GG-CNN2. Each example must end
in a refusal with a reason (ModelRejected from the codec, Rejected from the guard), never in
another exception; the only acceptance allowed is a JSON-neutral edit of a real payload's
header that still decodes to exactly the model's layout with finite values.
"""
import dataclasses
import hashlib
import json
import math
import struct

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mtf_grasp.federated.signing import WireBlob, sign_blob
from mtf_grasp.federated.codec import ModelRejected, decode_state, expected_layout, spec_json
from mtf_grasp.federated.admission import Rejected, RejectReason, SubmissionGuard

ROUND = 5
ENCODING = 'safetensors-fp32'
ROBOTS = ('robot_0', 'robot_1', 'robot_2')
# Slow shared CI machines: no per-example deadline; examples are small and quick anyway.
HOSTILE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                         HealthCheck.data_too_large])


def refused_by_decoder(payload: bytes, spec) -> ModelRejected:
    with pytest.raises(ModelRejected) as info:
        decode_state(payload, sha256=hashlib.sha256(payload).hexdigest(), encoding=ENCODING,
                     expected_spec=spec)
    return info.value


def refused_by_guard(guard: SubmissionGuard, blob: WireBlob) -> Rejected:
    verdict = guard.check(blob, round_id=ROUND, submitted=set())
    assert isinstance(verdict, Rejected), f'accepted a hostile blob: {blob}'
    assert verdict.message and '\n' not in verdict.message
    return verdict


@pytest.fixture(scope='module')
def guard(keys, spec):
    return SubmissionGuard(keys={k: v for k, v in keys.items() if k in ROBOTS}, spec=spec)


# ---- the decoder ----------------------------------------------------------------------------

@settings(HOSTILE, max_examples=200)
@given(payload=st.binary(max_size=2048))
def test_decoder_refuses_arbitrary_bytes(spec, payload):
    refused_by_decoder(payload, spec)


@pytest.mark.parametrize('metadata', ['null', '5', '[1]', '"spec"'])
def test_decoder_refuses_a_header_whose_metadata_is_not_a_mapping(spec, metadata):
    # Found by the property below: the codec called .get() on whatever __metadata__ held.
    header = f'{{"__metadata__": {metadata}}}'.encode()
    refused_by_decoder(struct.pack('<Q', len(header)) + header, spec)


def _json_values():
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=4)


@st.composite
def safetensors_like(draw, spec):
    """A length-prefixed JSON header shaped like safetensors' (often naming the real tensors and
    carrying the right spec, so the parser and the tensor checks are reached) plus a data tail."""
    layout = expected_layout(spec)
    header = {}
    metadata = draw(st.sampled_from(['right', 'random', 'absent']))
    if metadata == 'right':
        header['__metadata__'] = {'mtf_grasp.spec': spec_json(spec)}
    elif metadata == 'random':
        header['__metadata__'] = draw(_json_values())
    names = draw(st.lists(st.sampled_from(sorted(layout)) | st.text(max_size=10), max_size=4))
    for name in names:
        header[name] = draw(st.fixed_dictionaries({
            'dtype': st.sampled_from(['F32', 'F16', 'I64', 'BF16', 'U8']) | st.text(max_size=4),
            'shape': st.lists(st.integers(-2, 40), max_size=4),
            'data_offsets': st.lists(st.integers(-5, 1 << 20), min_size=0, max_size=3),
        }) | _json_values())
    text = json.dumps(header).encode()
    declared = draw(st.sampled_from(['exact', 'random']))
    length = len(text) if declared == 'exact' else draw(st.integers(0, 2 ** 64 - 1))
    return struct.pack('<Q', length) + text + draw(st.binary(max_size=256))


@settings(HOSTILE, max_examples=250)
@given(data=st.data())
def test_decoder_refuses_safetensors_shaped_junk(spec, data):
    refused_by_decoder(data.draw(safetensors_like(spec)), spec)


@settings(HOSTILE, max_examples=150)
@given(data=st.data())
def test_decoder_refuses_a_real_payload_with_a_broken_frame(spec, submission, data):
    payload = submission().payload
    (header_end,) = struct.unpack('<Q', payload[:8])
    header_end += 8
    kind = data.draw(st.sampled_from(['truncate', 'extend', 'header_byte', 'length']))
    if kind == 'truncate':
        broken = payload[:data.draw(st.integers(0, len(payload) - 1))]
    elif kind == 'extend':
        broken = payload + data.draw(st.binary(min_size=1, max_size=64))
    elif kind == 'header_byte':
        # The length prefix and the JSON header, less its trailing space padding.
        position = data.draw(st.integers(0, len(payload[:header_end].rstrip(b' ')) - 1))
        value = data.draw(st.integers(0, 255).filter(lambda v: v != payload[position]))
        broken = payload[:position] + bytes([value]) + payload[position + 1:]
    else:
        length = data.draw(st.integers(0, 2 ** 64 - 1).filter(lambda n: n != header_end - 8))
        broken = struct.pack('<Q', length) + payload[8:]
    try:
        state = decode_state(broken, sha256=hashlib.sha256(broken).hexdigest(), encoding=ENCODING,
                             expected_spec=spec)
    except ModelRejected:
        return
    # One header byte may still leave JSON that describes the same tensors (an escape spelled
    # differently, say): whatever decodes must have the model's exact layout and finite values.
    assert kind == 'header_byte', f'{kind} was accepted'
    layout = expected_layout(spec)
    assert {k: (tuple(v.shape), v.dtype) for k, v in state.items()} == layout
    assert all(torch.isfinite(v).all() for v in state.values() if v.dtype.is_floating_point)


# ---- the guard ------------------------------------------------------------------------------

def _wire_text():
    return st.text(max_size=24) | st.sampled_from(['', 'ggcnn2', 'grconvnet', ENCODING])


@st.composite
def forged_blobs(draw, keys):
    """Blobs from someone without a roster key: any header, any payload, and a signature that is
    junk, a member's signature of another blob (replayed), or an HMAC under a stranger's key."""
    blob = WireBlob(
        sender=draw(st.sampled_from(ROBOTS + ('server', 'intruder', '')) | st.text(max_size=12)),
        architecture=draw(_wire_text()), round=draw(st.just(ROUND) | st.integers(-1, 2 ** 33)),
        version=draw(st.integers(-1, 2 ** 65)), sample_count=draw(st.integers(-1, 2 ** 65)),
        local_steps=draw(st.floats()), encoding=draw(_wire_text()),
        metadata_json=draw(_wire_text()), sha256=draw(st.text(max_size=64)),
        payload=draw(st.binary(max_size=1024)))
    how = draw(st.sampled_from(['junk', 'hex', 'replayed', 'stranger']))
    if how == 'junk':
        signature = draw(st.text(max_size=80))
    elif how == 'replayed':
        other = dataclasses.replace(blob, payload=blob.payload + b'x', round=0, version=0,
                                    sample_count=1, local_steps=1.0)
        signature = sign_blob(other, keys[draw(st.sampled_from(ROBOTS))])
    elif how == 'stranger' and _packable(blob):
        signature = sign_blob(blob, draw(st.binary(min_size=32, max_size=32)))
    else:
        signature = draw(st.binary(min_size=32, max_size=32)).hex()
    return dataclasses.replace(blob, signature=signature)


def _packable(blob):
    return 0 <= blob.round < 2 ** 32 and 0 <= blob.version < 2 ** 64 and 0 <= blob.sample_count < 2 ** 64


@settings(HOSTILE, max_examples=200)
@given(data=st.data())
def test_guard_refuses_blobs_without_a_roster_key(guard, keys, data):
    verdict = refused_by_guard(guard, data.draw(forged_blobs(keys)))
    assert verdict.reason in (RejectReason.UNKNOWN_SENDER, RejectReason.BAD_SIGNATURE)


_TAMPERS = {
    'sender': st.sampled_from(ROBOTS + ('server', 'intruder')),
    'architecture': _wire_text(),
    'round': st.integers(0, 2 ** 32 - 1),
    'version': st.integers(0, 2 ** 64 - 1),
    'sample_count': st.integers(0, 2 ** 64 - 1),
    'local_steps': st.floats(),
    'encoding': _wire_text(),
    'metadata_json': _wire_text(),
    'sha256': st.text(max_size=64),
    'signature': st.text(max_size=64),
}


@settings(HOSTILE, max_examples=200)
@given(data=st.data())
def test_guard_refuses_a_signed_blob_changed_in_transit(guard, submission, data):
    valid_blob = submission(sender='robot_1', round=ROUND)
    field = data.draw(st.sampled_from(sorted(_TAMPERS) + ['payload']))
    if field == 'payload':
        payload = bytearray(valid_blob.payload)
        payload[data.draw(st.integers(0, len(payload) - 1))] ^= data.draw(st.integers(1, 255))
        tampered = dataclasses.replace(valid_blob, payload=bytes(payload))
    else:
        value = data.draw(_TAMPERS[field])
        assume(value != getattr(valid_blob, field))
        tampered = dataclasses.replace(valid_blob, **{field: value})
    verdict = refused_by_guard(guard, tampered)
    # The signature covers the payload's real digest; the sha256 field is checked by the codec.
    expected = RejectReason.UNKNOWN_SENDER if tampered.sender not in ROBOTS else \
        RejectReason.BAD_SHA256 if field == 'sha256' else RejectReason.BAD_SIGNATURE
    assert verdict.reason is expected, verdict.message


@st.composite
def insider_faults(draw, state, spec):
    """A member's own key on a bad model: (header changes, replacement state or None, reasons)."""
    kind = draw(st.sampled_from(['non_finite', 'round', 'weight', 'architecture', 'encoding',
                                 'sha256', 'payload', 'tensors']))
    if kind == 'non_finite':
        name = draw(st.sampled_from([k for k, v in state.items() if v.dtype.is_floating_point]))
        poisoned = {k: v.clone() for k, v in state.items()}
        flat = poisoned[name].view(-1)
        flat[draw(st.integers(0, flat.numel() - 1))] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
        return {}, poisoned, {RejectReason.NON_FINITE}
    if kind == 'round':
        round_index = draw(st.integers(0, 2 ** 32 - 1).filter(lambda r: r != ROUND))
        return {'round': round_index}, None, \
            {RejectReason.STALE_ROUND if round_index < ROUND else RejectReason.FUTURE_ROUND}
    if kind == 'weight':
        change = draw(st.just({'sample_count': 0}) | st.builds(
            lambda s: {'local_steps': s}, st.floats().filter(lambda s: not (math.isfinite(s) and s > 0))))
        return change, None, {RejectReason.BAD_WEIGHT}
    if kind == 'architecture':
        field, right = draw(st.sampled_from([('architecture', spec.arch),
                                             ('metadata_json', spec_json(spec))]))
        return {field: draw(_wire_text().filter(lambda t: t != right))}, None, \
            {RejectReason.WRONG_ARCHITECTURE}
    if kind == 'encoding':
        encoding = draw(_wire_text().filter(lambda e: e not in ('safetensors-fp32', 'safetensors-fp16')))
        return {'encoding': encoding}, None, {RejectReason.BAD_ENCODING}
    if kind == 'sha256':
        return {'sha256': draw(st.text(max_size=64))}, None, {RejectReason.BAD_SHA256}
    if kind == 'payload':
        payload = draw(st.binary(max_size=2048))
        return {'payload': payload, 'sha256': hashlib.sha256(payload).hexdigest()}, None, \
            {RejectReason.UNDECODABLE, RejectReason.WRONG_ARCHITECTURE}
    return {}, draw(_broken_tensors(state)), {RejectReason.WRONG_TENSORS}


@st.composite
def _broken_tensors(draw, state):
    name = draw(st.sampled_from(sorted(state)))
    changed = dict(state)
    how = draw(st.sampled_from(['drop', 'reshape', 'retype', 'rename']))
    if how == 'drop':
        del changed[name]
    elif how == 'reshape':
        changed[name] = torch.zeros(state[name].numel() + draw(st.integers(1, 3)))
    elif how == 'retype':
        # fp32 payloads store float entries as float32: float64 reaches the wire as float32.
        changed[name] = state[name].to(torch.int32 if state[name].dtype.is_floating_point else torch.float64)
    else:
        new_name = draw(st.text(min_size=1, max_size=12).filter(
            lambda n: n not in state and n != '__metadata__'))
        changed[new_name] = changed.pop(name)
    return changed


@settings(HOSTILE, max_examples=200)
@given(data=st.data())
def test_guard_refuses_malformed_models_signed_by_a_member(guard, spec, state, submission, resign, data):
    header, new_state, reasons = data.draw(insider_faults(state, spec))
    blob = submission(new_state, sender='robot_1', round=ROUND)
    verdict = refused_by_guard(guard, resign(blob, **header))
    assert verdict.reason in reasons, verdict.message
