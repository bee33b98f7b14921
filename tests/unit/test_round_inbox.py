"""RoundInbox (nodes/fleet/inbox.py): what a receiver admits in a round, and how it hands the
models to the aggregation: all at the close in the senders' order, or streamed as they arrive."""
import dataclasses
import hashlib
import threading
import time

import pytest
import torch

from mtf_grasp.federated.admission import RejectReason, SubmissionGuard
from mtf_grasp.federated.codec import encode_state, spec_json
from mtf_grasp.federated.signing import WireBlob, signed
from mtf_grasp.grasping.model_file import build_model
from mtf_grasp.grasping.model_spec import ModelSpec
from mtf_grasp.nodes.fleet.inbox import RoundInbox, noted
from mtf_grasp.nodes.fleet.work_clock import WorkClock

SPEC = ModelSpec(arch='ggcnn2', channels='depth', input_size=16)
KEYS = {robot: hashlib.sha256(robot.encode()).digest() for robot in ('a', 'b', 'c')}
ORIGINAL = build_model(SPEC).state_dict()
ENCODED = encode_state(ORIGINAL, spec=SPEC)


def blob(sender, round_index=3):
    return signed(WireBlob(sender=sender, architecture=SPEC.arch, round=round_index, version=3,
                           sample_count=10, local_steps=2.0, encoding=ENCODED.encoding,
                           metadata_json=spec_json(SPEC), sha256=ENCODED.sha256, payload=ENCODED.payload),
                  KEYS[sender])


@pytest.fixture
def guard():
    return SubmissionGuard(keys=KEYS, spec=SPEC)


def test_inbox_admits_signed_models_once_and_refuses_late_ones_after_closing(guard):
    inbox = RoundInbox(round_index=3, senders=['b', 'a', 'c'], version=3)
    assert inbox.quorum(0.5) == 2 and inbox.quorum(1.0) == 3 and inbox.quorum(0.01) == 1
    assert inbox.admit(blob('a'), guard=guard).accepted
    assert inbox.admit(blob('a'), guard=guard).reason is RejectReason.DUPLICATE
    assert inbox.admit(blob('b', round_index=2), guard=guard).reason is RejectReason.STALE_ROUND
    assert not inbox.wait(0.01, count=2) and inbox.missing() == ['b', 'c']
    assert inbox.admit(blob('b'), guard=guard).accepted
    assert inbox.wait(0.01, count=2) and not inbox.wait(0.01)
    arrived = inbox.close()
    assert [update.robot_id for update in arrived] == ['b', 'a']  # the senders' order, not arrival
    forged = dataclasses.replace(blob('c'), sample_count=1000)   # altered after signing
    assert inbox.admit(forged, guard=guard).reason is RejectReason.BAD_SIGNATURE   # closed or not
    late = inbox.admit(blob('c'), guard=guard)
    assert late.reason is RejectReason.STALE_ROUND and 'closed at its deadline' in late.message
    assert guard.rejected_total == 4 and guard.last_rejection == late.message
    for name, value in ORIGINAL.items():
        assert torch.equal(arrived[0].state[name], value), name


def test_a_stream_hands_each_model_over_in_arrival_order_and_keeps_none(guard):
    inbox = RoundInbox(round_index=3, senders=['b', 'a', 'c'], version=3)
    stream = inbox.stream(deadline=time.monotonic() + 60)
    for sender in ('c', 'a'):
        assert inbox.admit(blob(sender), guard=guard).accepted
    taken = []
    first = next(noted(stream, taken))
    assert first.robot_id == 'c'
    for name, value in ORIGINAL.items():
        assert torch.equal(first.state[name], value), name
    assert [u.robot_id for u in taken] == ['c'] and taken[0].state == {}   # noted: who, without weights
    assert next(stream).robot_id == 'a'
    assert inbox.admit(blob('b'), guard=guard).accepted
    assert [u.robot_id for u in stream] == ['b']   # every sender in: the stream ends
    assert inbox.close() == [] and inbox.missing() == []   # handed over, none kept
    assert inbox.admit(blob('a'), guard=guard).reason is RejectReason.STALE_ROUND   # the stream closed the round


def test_a_stream_waits_for_a_model_admitted_by_another_thread(guard):
    inbox = RoundInbox(round_index=3, senders=['a', 'b'], version=3)
    got = []
    consumer = threading.Thread(target=lambda: got.extend(u.robot_id for u in inbox.stream(
        deadline=time.monotonic() + 60)))
    consumer.start()
    for sender in ('b', 'a'):   # the consumer may or may not be waiting yet: either way it takes both
        assert inbox.admit(blob(sender), guard=guard).accepted
    consumer.join(timeout=30)
    assert not consumer.is_alive() and got == ['b', 'a']


def test_past_its_deadline_a_stream_ends_once_there_are_enough(guard):
    inbox = RoundInbox(round_index=3, senders=['a', 'b', 'c'], version=3)
    assert inbox.admit(blob('b'), guard=guard).accepted
    counts = []

    def enough(count):
        counts.append(count)
        return count >= 1

    assert [u.robot_id for u in inbox.stream(deadline=time.monotonic(), enough=enough)] == ['b']
    assert counts and set(counts) == {1}
    assert inbox.missing() == ['a', 'c']
    assert inbox.admit(blob('a'), guard=guard).reason is RejectReason.STALE_ROUND   # closed


def test_a_stream_short_of_its_quorum_fails_when_enough_says_so(guard):
    inbox = RoundInbox(round_index=3, senders=['a', 'b'], version=3)

    def enough(count):
        raise TimeoutError(f'only {count}')

    with pytest.raises(TimeoutError, match='only 0'):
        list(inbox.stream(deadline=time.monotonic(), enough=enough))


def test_the_waits_of_a_stream_are_left_out_of_the_clock_timing_its_consumer(guard):
    inbox = RoundInbox(round_index=3, senders=['a', 'b'], version=3)
    assert inbox.admit(blob('a'), guard=guard).accepted
    work = WorkClock()
    started = time.perf_counter()
    with work.timing():   # 'b' never sends: the stream waits out its deadline, half a second
        got = [u.robot_id for u in inbox.stream(deadline=time.monotonic() + 0.5, clock=work)]
    elapsed = time.perf_counter() - started
    assert got == ['a'] and elapsed >= 0.5
    assert 0.0 <= work.wall_s < 0.5 * elapsed and work.cpu_s >= 0.0
