"""Shared pieces of the security tests: a tiny real model, fleet keys and signed submissions."""
import dataclasses
import hashlib

import pytest
import torch

from mtf_grasp.federated.signing import WireBlob, signed
from mtf_grasp.federated.codec import encode_state, spec_json
from mtf_grasp.grasping.model_file import build_model
from mtf_grasp.grasping.model_spec import ModelSpec

# GG-CNN2 on depth: about 66 k parameters, the smallest real model of the project.
SPEC = ModelSpec(arch='ggcnn2', channels='depth', input_size=16)
ROUND = 5
VERSION = 4
MEMBERS = ('server', 'robot_0', 'robot_1', 'robot_2')


@pytest.fixture(scope='session')
def spec():
    return SPEC


@pytest.fixture(scope='session')
def keys():
    # Fixed keys (not secrets.token_bytes) so a hypothesis failure replays identically.
    return {member: hashlib.sha256(member.encode()).digest() for member in MEMBERS}


@pytest.fixture(scope='session')
def state():
    torch.manual_seed(0)
    return {k: v.clone() for k, v in build_model(SPEC).state_dict().items()}


def unsigned_blob(state, *, spec=SPEC, dtype='fp32', **header) -> WireBlob:
    """What a well-behaved robot sends, before signing; `header` overrides blob fields."""
    encoded = encode_state(state, spec=spec, dtype=dtype)
    fields = dict(sender='robot_1', architecture=spec.arch, round=ROUND, version=VERSION,
                  sample_count=80, local_steps=30.0, encoding=encoded.encoding,
                  metadata_json=spec_json(spec), sha256=encoded.sha256, payload=encoded.payload)
    fields.update(header)
    return WireBlob(**fields)


@pytest.fixture(scope='session')
def submission(state, keys):
    """make(state=None, signer=None, **header) -> a blob signed by `signer` (the sender by default)."""
    def make(state_override=None, *, signer=None, **header):
        blob = unsigned_blob(state if state_override is None else state_override, **header)
        return signed(blob, keys[signer or blob.sender])
    return make


@pytest.fixture(scope='session')
def resign(keys):
    """resign(blob, **changes) -> `blob` with `changes`, signed again by its (new) sender:
    a member's key on a malformed model, so checks after the signature are reached."""
    def change(blob, **changes):
        blob = dataclasses.replace(blob, **changes)
        return signed(blob, keys[blob.sender])
    return change
