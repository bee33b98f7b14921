"""Model transport against a real fl_server process: registrations need a profile signed by the
robot's key; the global model comes signed by the server; forged, altered, stale, mis-versioned,
NaN, zero-weight and duplicate submissions are refused with their reason code and counted in the
latched fleet status."""
import hashlib
import json
import subprocess
import sys
import time

import pytest
import rclpy

from fleet_testdata import write_configs, write_jacquard_boxes
from service_calls import answer

pytestmark = pytest.mark.ros


def call(node, client, request, *, tries=3):
    """The answer (`service_calls.answer`, asking `tries` times); an error when none came."""
    response = answer(node, client, request, tries=tries)
    assert response is not None, f'{client.service_name} did not answer'
    return response


def spin_until(node, condition, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, 'condition not met in time'
        node.executor.spin_once(timeout_sec=0.1)


def registration(robot, *, key):
    from mtf_grasp_interfaces.msg import RobotProfile
    from mtf_grasp_interfaces.srv import RegisterRobot

    from mtf_grasp.federated.signing import WireProfile, sign_profile

    profile = WireProfile(robot_id=robot, sample_count=8, class_histogram=(2, 2, 1, 1, 1, 1), labeller='angle')
    return RegisterRobot.Request(profile=RobotProfile(robot_id=robot, sample_count=8, labeller='angle',
                                                      class_histogram=list(profile.class_histogram)),
                                 signature=sign_profile(profile, key))


def first_round_open(server, ros_node):
    """Every robot of `server`'s fleet registered (by the test, with the robots' keys) and round 0
    planned: (setup, keys)."""
    from mtf_grasp_interfaces.msg import RoundPlan
    from mtf_grasp_interfaces.srv import RegisterRobot

    from mtf_grasp.nodes.fleet import names

    _, setup = server
    keys = setup.roster.load_keys()
    plans = []
    ros_node.create_subscription(RoundPlan, names.ROUND_PLAN, plans.append, names.LATCHED)
    register = ros_node.create_client(RegisterRobot, names.REGISTER, qos_profile=names.SERVICE_QOS)
    for robot in setup.robots:
        assert call(ros_node, register, registration(robot, key=keys[robot])).accepted
    spin_until(ros_node, lambda: plans, timeout_s=60)
    return setup, keys


@pytest.fixture
def server(ros_processes, tmp_path):
    """An fl_server for a three-robot FedAvg fleet, started from the fleet plan's own parameters."""
    from mtf_grasp.fleet import fleet_nodes, prepare_fleet
    from mtf_grasp.plan import command_line, write_params_file

    data = write_jacquard_boxes(tmp_path / 'data', samples=30)
    setup = prepare_fleet(write_configs(tmp_path, data=data, robots=3, rounds=1, method='fedavg'),
                          out_dir=tmp_path / 'run')
    spec = fleet_nodes(setup)[0]
    proc = ros_processes.start(command_line(spec, write_params_file([spec], tmp_path / 'params.yaml')),
                               name='server')
    return proc, setup


def test_server_checks_every_submission_and_counts_refusals(server, ros_node, ros_processes):
    from mtf_grasp_interfaces.msg import FleetStatus, RoundPlan
    from mtf_grasp_interfaces.srv import FetchModel, RegisterRobot, SubmitModel
    from safetensors.torch import load

    from mtf_grasp.federated.signing import verify_blob
    from mtf_grasp.federated.codec import encode_state
    from mtf_grasp.nodes.fleet import names
    from mtf_grasp.nodes.blob_transport import BlobHeader, make_blob, wire_blob

    proc, setup = server
    keys = setup.roster.load_keys()
    plans, statuses = [], []
    ros_node.create_subscription(RoundPlan, names.ROUND_PLAN, plans.append, names.LATCHED)
    ros_node.create_subscription(FleetStatus, names.FLEET_STATUS, statuses.append, names.LATCHED)
    register = ros_node.create_client(RegisterRobot, names.REGISTER)
    fetch = ros_node.create_client(FetchModel, names.GLOBAL_MODEL)
    submit = ros_node.create_client(SubmitModel, names.SUBMIT_TO_SERVER)

    assert not call(ros_node, register, registration('robot_9', key=keys['robot_0'])).accepted
    forged = call(ros_node, register, registration('robot_0', key=keys['robot_1']))
    assert not forged.accepted and 'signature does not match' in forged.message
    for robot in setup.robots:
        assert call(ros_node, register, registration(robot, key=keys[robot])).accepted
    spin_until(ros_node, lambda: plans, timeout_s=60)
    assert plans[-1].round == 0 and plans[-1].method == 'fedavg' and not plans[-1].top_level_ids

    assert not call(ros_node, fetch, FetchModel.Request(requester='robot_0', round=3)).available
    response = call(ros_node, fetch, FetchModel.Request(requester='robot_0', round=0))
    assert response.available
    blob = response.blob
    assert hashlib.sha256(blob.payload.tobytes()).hexdigest() == blob.sha256
    assert verify_blob(wire_blob(blob), keys['server']), 'the global model comes signed by the server'
    state = load(blob.payload.tobytes())

    def submitted(state=state, sender='robot_0', key=None, payload=None, **header):
        encoded = encode_state(state, spec=setup_spec(blob))
        fields = dict(sender=sender, architecture=blob.architecture, round_index=0, version=blob.version,
                      sample_count=8, local_steps=1.0)
        fields.update(header)
        sent = make_blob(encoded.payload, header=BlobHeader(**fields), encoding=encoded.encoding,
                         metadata_json=encoded.metadata_json, sha256=encoded.sha256,
                         key=keys[sender] if key is None else key)
        if payload is not None:
            sent.payload = payload
        # Asked once: a repeated submission would be refused as a duplicate and counted.
        return call(ros_node, submit, SubmitModel.Request(blob=sent), tries=1)

    corrupted = bytearray(encode_state(state, spec=setup_spec(blob)).payload)
    corrupted[-1] ^= 0xFF
    nan_state = {k: v * float('nan') if v.is_floating_point() else v for k, v in state.items()}
    refusals = [submitted(payload=bytes(corrupted)), submitted(round_index=5), submitted(version=7),
                submitted(sender='robot_1', key=keys['robot_0']), submitted(nan_state), submitted(sample_count=0)]
    assert [r.accepted for r in refusals] == [False] * 6
    assert [r.message.split(' ')[0] for r in refusals] == [
        'bad_signature', 'future_round', 'wrong_version', 'bad_signature', 'non_finite', 'bad_weight']
    assert submitted().accepted
    duplicate = submitted()
    assert not duplicate.accepted and duplicate.message.startswith('duplicate')

    spin_until(ros_node, lambda: statuses and statuses[-1].rejected_submissions == 7)
    assert statuses[-1].last_rejection == duplicate.message
    assert sorted(statuses[-1].registered_ids) == list(setup.robots)
    assert proc.poll() is None, ros_processes.log(proc)


def test_the_server_answers_every_one_of_many_simultaneous_fetches(server, ros_node):
    """30 callers ask for the global model at once, as a cluster's members ask for their seed. Under
    ROS's default service QoS (the last 10 requests and responses kept) only 10 were answered and
    the others waited out their timeout; the fleet's services keep every call (names.SERVICE_QOS)."""
    from mtf_grasp_interfaces.srv import FetchModel

    from mtf_grasp.nodes.fleet import names

    first_round_open(server, ros_node)
    callers = [ros_node.create_client(FetchModel, names.GLOBAL_MODEL, qos_profile=names.SERVICE_QOS)
               for _ in range(30)]
    for caller in callers:
        assert caller.wait_for_service(timeout_sec=30)
    # Every caller's response reader must be matched at the server before the burst, or an answer
    # can be lost for that reason instead: one call each, one at a time, first.
    for caller in callers:
        assert call(ros_node, caller, FetchModel.Request(requester='robot_0', round=0)).available
    futures = [caller.call_async(FetchModel.Request(requester='robot_0', round=0)) for caller in callers]
    spin_until(ros_node, lambda: all(f.done() for f in futures), timeout_s=20)
    assert all(f.result().available for f in futures)
    assert len({f.result().blob.sha256 for f in futures}) == 1


def test_robots_take_the_rounds_model_from_its_topic_and_ask_the_service_only_when_the_topic_fails(
        server, ros_node):
    """A robot's ModelWatch against a real fl_server: the round's global model comes from the latched
    /fleet/round_model; with a topic that brings nothing, the robot asks the service after
    `ask_every_s` and gets the same model; a model that fails the robot's check is never taken."""
    from mtf_grasp.federated.admission import SubmissionGuard
    from mtf_grasp.fleet import SERVER_ID
    from mtf_grasp.nodes.blob_transport import BlobRejected, wire_blob
    from mtf_grasp.nodes.fleet import names
    from mtf_grasp.nodes.fleet.model_watch import ModelWatch
    from mtf_grasp.nodes.runtime import spinning

    _, keys = first_round_open(server, ros_node)

    checked = []

    def check(blob, *, source):
        checked.append(source)
        verdict = SubmissionGuard(keys={source: keys[source]}, spec=setup_spec(blob)).check_fetched(
            wire_blob(blob), round_id=blob.round)
        if not verdict.accepted:
            raise BlobRejected(verdict.message)
        return verdict.state

    robot = rclpy.create_node('model_watch_probe', context=ros_node.context)
    try:
        with spinning(robot):
            # ask_every_s longer than the wait: only the topic can deliver.
            by_topic = ModelWatch(robot, requester='robot_0', check=check, callback_group=None, ask_every_s=60.0)
            blob, state = by_topic.wait(SERVER_ID, names.ROUND_MODEL, names.GLOBAL_MODEL, 0, timeout_s=30.0)
            assert blob.round == 0 and blob.sender == SERVER_ID and state
            # A topic nobody publishes on: the service answers the robot's ask.
            by_service = ModelWatch(robot, requester='robot_0', check=check, callback_group=None, ask_every_s=0.5)
            asked, _ = by_service.wait(SERVER_ID, '/nobody/round_model', names.GLOBAL_MODEL, 0, timeout_s=30.0)
            assert asked.sha256 == blob.sha256
            # Checked as robot_1's model, the server's fails (bad signature): never taken.
            refusing = ModelWatch(robot, requester='robot_0', check=check, callback_group=None, ask_every_s=0.5)
            with pytest.raises(TimeoutError, match='no model for round 0'):
                refusing.wait('robot_1', names.ROUND_MODEL, names.GLOBAL_MODEL, 0, timeout_s=2.0)
            assert 'robot_1' in checked
    finally:
        robot.destroy_node()


def setup_spec(blob):
    from mtf_grasp.grasping.model_spec import ModelSpec

    return ModelSpec.from_json(blob.metadata_json)


@pytest.mark.slow
def test_bench_transfer_reports_service_and_raw_topic_throughput():
    result = subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'bench', 'transfer', '--model-mb', '1',
                             '--repeats', '3', '--json'], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    assert figures['model_mb'] == 1.0
    assert figures['service_mb_s'] > 0 and figures['raw_topic_mb_s'] > 0
    # The throughputs are printed to 0.1 MB/s and the ratio, from the unrounded ones, to 0.001.
    service, raw = figures['service_mb_s'], figures['raw_topic_mb_s']
    low, high = (service - 0.05) / (raw + 0.05), (service + 0.05) / max(raw - 0.05, 1e-9)
    assert low - 0.0005 <= figures['ratio'] <= high + 0.0005
