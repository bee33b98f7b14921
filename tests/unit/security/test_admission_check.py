"""SubmissionGuard: one test per way a submission is refused, and what an accepted one yields."""
import dataclasses
import hashlib
import json
import struct

import pytest
import torch
from safetensors.torch import save

from mtf_grasp.federated.signing import signed
from mtf_grasp.federated.codec import spec_json
from mtf_grasp.federated.admission import Accepted, Rejected, RejectReason, SubmissionGuard
from mtf_grasp.grasping.model_spec import ModelSpec

ROUND, VERSION = 5, 4


@pytest.fixture
def guard(keys, spec):
    return SubmissionGuard(keys=keys, spec=spec)


def judge(guard, blob, *, submitted=(), **kwargs):
    return guard.check(blob, round_id=ROUND, submitted=set(submitted), **kwargs)


def assert_rejected(verdict, reason):
    assert isinstance(verdict, Rejected), verdict
    assert verdict.accepted is False
    assert verdict.reason is reason, verdict.message
    assert verdict.message.startswith(f"{reason.value} from ")
    assert '\n' not in verdict.message


@pytest.mark.parametrize('dtype', ['fp32', 'fp16'])
def test_a_signed_well_formed_submission_becomes_an_update(guard, submission, state, dtype):
    verdict = judge(guard, submission(dtype=dtype, sample_count=80, local_steps=30.0),
                    submitted={'robot_2'}, expected_senders={'robot_1', 'robot_2'}, version=VERSION)
    assert isinstance(verdict, Accepted) and verdict.accepted is True
    update = verdict.update
    assert (update.robot_id, update.sample_count, update.local_steps, update.round_index) == \
        ('robot_1', 80, 30.0, ROUND)
    assert verdict.state.keys() == state.keys()
    tolerance = 1e-3 if dtype == 'fp16' else 0.0
    for name, value in state.items():
        assert verdict.state[name].dtype == value.dtype
        torch.testing.assert_close(verdict.state[name], value, rtol=tolerance, atol=tolerance)
    assert guard.rejected_total == 0 and guard.last_rejection == ''


def test_a_stranger_outside_the_roster_is_refused(guard, submission):
    verdict = judge(guard, signed(dataclasses.replace(submission(), sender='intruder'), b'k' * 32))
    assert_rejected(verdict, RejectReason.UNKNOWN_SENDER)
    assert "'intruder'" in verdict.message


def test_a_stranger_using_a_members_name_fails_the_signature(guard, submission):
    forged = signed(submission(), hashlib.sha256(b'stranger').digest())
    assert_rejected(judge(guard, forged), RejectReason.BAD_SIGNATURE)


def test_a_member_signing_in_another_members_name_fails_the_signature(guard, submission):
    assert_rejected(judge(guard, submission(sender='robot_1', signer='robot_2')),
                    RejectReason.BAD_SIGNATURE)


def test_a_member_not_assigned_to_this_receiver_is_refused(guard, submission):
    verdict = judge(guard, submission(sender='robot_0'), expected_senders={'robot_1', 'robot_2'})
    assert_rejected(verdict, RejectReason.UNEXPECTED_SENDER)


@pytest.mark.parametrize('round_index, reason', [(ROUND - 1, RejectReason.STALE_ROUND),
                                                 (0, RejectReason.STALE_ROUND),
                                                 (ROUND + 1, RejectReason.FUTURE_ROUND)])
def test_submissions_for_another_round_are_refused(guard, submission, round_index, reason):
    verdict = judge(guard, submission(round=round_index))
    assert_rejected(verdict, reason)
    assert f'current round is {ROUND}' in verdict.message


def test_a_model_from_another_global_version_is_refused(guard, submission):
    verdict = judge(guard, submission(version=VERSION - 1), version=VERSION)
    assert_rejected(verdict, RejectReason.WRONG_VERSION)


def test_a_second_submission_in_a_round_is_a_duplicate(guard, submission):
    submitted = {'robot_0'}
    assert_rejected(judge(guard, submission(sender='robot_0'), submitted=submitted),
                    RejectReason.DUPLICATE)
    assert submitted == {'robot_0'}, 'the caller owns the round state'


@pytest.mark.parametrize('header', [{'sample_count': 0}, {'local_steps': 0.0}, {'local_steps': -3.0},
                                    {'local_steps': float('nan')}, {'local_steps': float('inf')}])
def test_weights_that_would_break_aggregation_are_refused(guard, submission, header):
    assert_rejected(judge(guard, submission(**header)), RejectReason.BAD_WEIGHT)


@pytest.mark.parametrize('header', [{'architecture': 'grconvnet'}, {'metadata_json': '{}'}])
def test_a_header_naming_another_architecture_is_refused(guard, submission, header):
    assert_rejected(judge(guard, submission(**header)), RejectReason.WRONG_ARCHITECTURE)


def test_a_payload_of_another_architecture_is_refused(guard, submission, spec):
    from mtf_grasp.grasping.model_file import build_model
    other = ModelSpec(arch='ggcnn2', channels='rgbd', input_size=16)
    verdict = judge(guard, submission(build_model(other).state_dict(), spec=other,
                                      architecture=spec.arch, metadata_json=spec_json(spec)))
    assert_rejected(verdict, RejectReason.WRONG_ARCHITECTURE)


def _renamed(state):
    first = next(iter(state))
    return {('evil.' + k if k == first else k): v for k, v in state.items()}


def _reshaped(state):
    first = next(iter(state))
    return {k: (v.flatten() if k == first else v) for k, v in state.items()}


def _retyped(state):
    name = next(k for k, v in state.items() if not v.dtype.is_floating_point)
    return {k: (v.to(torch.int32) if k == name else v) for k, v in state.items()}


@pytest.mark.parametrize('corrupt', [_renamed, _reshaped, _retyped,
                                     lambda s: dict(list(s.items())[1:]),
                                     lambda s: {**s, 'extra.weight': torch.zeros(2)}],
                         ids=['renamed', 'reshaped', 'retyped', 'missing', 'extra'])
def test_tensor_names_shapes_and_dtypes_must_match_the_model(guard, submission, state, corrupt):
    assert_rejected(judge(guard, submission(corrupt(state))), RejectReason.WRONG_TENSORS)


@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_non_finite_weights_are_refused(guard, submission, state, bad):
    name = next(k for k, v in state.items() if v.dtype.is_floating_point)
    poisoned = {k: v.clone() for k, v in state.items()}
    poisoned[name].view(-1)[7] = bad
    verdict = judge(guard, submission(poisoned))
    assert_rejected(verdict, RejectReason.NON_FINITE)
    assert name in verdict.message


def test_a_payload_that_does_not_match_its_sha256_is_refused(guard, submission, resign):
    blob = submission()
    assert_rejected(judge(guard, resign(blob, sha256='0' * 64)), RejectReason.BAD_SHA256)


def test_an_unknown_encoding_is_refused(guard, submission):
    assert_rejected(judge(guard, submission(encoding='pickle')), RejectReason.BAD_ENCODING)


def test_an_oversize_payload_is_refused(guard, submission, resign):
    blob = submission()
    padded = blob.payload + bytes(2 << 20)
    verdict = judge(guard, resign(blob, payload=padded, sha256=hashlib.sha256(padded).hexdigest()))
    assert_rejected(verdict, RejectReason.OVERSIZE)


@pytest.mark.parametrize('payload', [b'', b'\x00' * 7, b'not safetensors at all',
                                     struct.pack('<Q', 2) + b'[]',
                                     struct.pack('<Q', 1 << 40) + b'{}',
                                     struct.pack('<Q', 22) + b'{"__metadata__": null}'])
def test_bytes_that_are_not_safetensors_are_refused(guard, submission, resign, payload):
    verdict = judge(guard, resign(submission(), payload=payload,
                                  sha256=hashlib.sha256(payload).hexdigest()))
    assert_rejected(verdict, RejectReason.UNDECODABLE)


def test_a_pickle_is_never_loaded(guard, submission, resign, tmp_path):
    import pickle

    marker = tmp_path / 'pwned'
    payload = pickle.dumps(_Exploit(str(marker)))
    verdict = judge(guard, resign(submission(), payload=payload,
                                  sha256=hashlib.sha256(payload).hexdigest()))
    assert_rejected(verdict, RejectReason.UNDECODABLE)
    assert not marker.exists()


class _Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_safetensors_with_a_forged_spec_header_is_refused(guard, submission, resign, spec):
    payload = save({'w': torch.zeros(3)}, metadata={'mtf_grasp.spec': json.dumps({'arch': 'x'})})
    verdict = judge(guard, resign(submission(), payload=payload,
                                  sha256=hashlib.sha256(payload).hexdigest()))
    assert_rejected(verdict, RejectReason.WRONG_ARCHITECTURE)


def test_rejections_are_counted_by_reason(guard, submission):
    judge(guard, submission(round=ROUND - 1))
    judge(guard, submission(round=ROUND - 2))
    judge(guard, submission(sample_count=0))
    assert isinstance(judge(guard, submission()), Accepted)
    last = judge(guard, submission(round=ROUND + 3))
    assert guard.rejections == {RejectReason.STALE_ROUND: 2, RejectReason.BAD_WEIGHT: 1,
                                RejectReason.FUTURE_ROUND: 1}
    assert guard.rejected_total == 4
    assert guard.last_rejection == last.message
    # A model admitted, then refused by the aggregation's norm bound, counts in fleet status too.
    guard.count_refusal(sender='robot_1', round_id=ROUND, reason='norm_exceeded', detail='update norm 34 > 0.6')
    assert guard.rejections[RejectReason.NORM_EXCEEDED] == 1 and guard.rejected_total == 5
    assert guard.last_rejection == f"norm_exceeded from 'robot_1' (round {ROUND}): update norm 34 > 0.6"


def test_hostile_strings_reach_the_message_as_one_bounded_escaped_line(guard, submission):
    verdict = judge(guard, submission(architecture='\x1b[31mred\nline' * 2000))
    assert_rejected(verdict, RejectReason.WRONG_ARCHITECTURE)
    assert '\x1b' not in verdict.message and len(verdict.message) <= 500
    assert verdict.message.endswith('…')
    assert '\\x1b[31mred\\nline' in verdict.message


def test_a_fetched_global_model_needs_the_servers_signature_not_weights(keys, spec, submission, state):
    robot_guard = SubmissionGuard(keys={'server': keys['server']}, spec=spec)
    fetched = submission(sender='server', sample_count=0, local_steps=0.0)
    verdict = robot_guard.check_fetched(fetched, round_id=ROUND)
    assert isinstance(verdict, Accepted)
    torch.testing.assert_close(verdict.state, dict(state), rtol=0, atol=0)

    assert_rejected(robot_guard.check_fetched(submission(sender='server', signer='robot_0'), round_id=ROUND),
                    RejectReason.BAD_SIGNATURE)
    assert_rejected(robot_guard.check_fetched(submission(sender='robot_0'), round_id=ROUND),
                    RejectReason.UNKNOWN_SENDER)
    assert_rejected(robot_guard.check_fetched(submission(sender='server', round=ROUND - 1), round_id=ROUND),
                    RejectReason.STALE_ROUND)
    assert robot_guard.rejected_total == 3


def test_only_admitted_models_reach_the_aggregate(guard, submission, state, keys):
    from mtf_grasp.federated.rounds import server_aggregate

    def scaled(factor):
        return {k: (v * factor if v.dtype.is_floating_point else v) for k, v in state.items()}

    honest = [submission(scaled(1.0), sender='robot_0', sample_count=30),
              submission(scaled(3.0), sender='robot_1', sample_count=10)]
    poison = scaled(1e6)
    hostile = [signed(submission(poison, sender='robot_2'), hashlib.sha256(b'stranger').digest()),
               signed(dataclasses.replace(submission(poison), sender='intruder'), b'k' * 32),
               submission(poison, sender='robot_0', sample_count=10 ** 6)]  # a second try: duplicate
    submitted, updates = set(), []
    for blob in [honest[0], hostile[0], hostile[1], honest[1], hostile[2]]:
        verdict = judge(guard, blob, submitted=submitted)
        if verdict.accepted:
            submitted.add(blob.sender)
            updates.append(verdict.update)
    assert submitted == {'robot_0', 'robot_1'}
    assert guard.rejections == {RejectReason.BAD_SIGNATURE: 1, RejectReason.UNKNOWN_SENDER: 1,
                                RejectReason.DUPLICATE: 1}
    merged = server_aggregate(updates, base='avg', global_state=state)
    for name, value in state.items():
        if value.dtype.is_floating_point:  # (30·θ + 10·3θ) / 40 = 1.5·θ
            torch.testing.assert_close(merged[name], value * 1.5)
