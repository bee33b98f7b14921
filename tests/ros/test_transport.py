"""Model transport against a real fl_server process: sha256 checked on receipt, submissions for the
wrong round, from strangers or twice are refused and counted in the latched fleet status."""
import hashlib
import json
import subprocess
import sys
import time

import pytest
import rclpy

from fleet_testdata import write_configs, write_jacquard_boxes

pytestmark = pytest.mark.ros


def call(node, client, request, timeout_s=30.0):
    assert client.wait_for_service(timeout_sec=timeout_s), f'{client.service_name} never appeared'
    future = client.call_async(request)
    rclpy.spin_until_future_complete(node, future, executor=node.executor, timeout_sec=timeout_s)
    assert future.result() is not None, f'{client.service_name} did not answer'
    return future.result()


def spin_until(node, condition, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, 'condition not met in time'
        node.executor.spin_once(timeout_sec=0.1)


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
    from mtf_grasp_interfaces.msg import FleetStatus, RobotProfile, RoundPlan
    from mtf_grasp_interfaces.srv import FetchModel, RegisterRobot, SubmitModel

    from mtf_grasp.nodes import fleet_names as names

    proc, setup = server
    plans, statuses = [], []
    ros_node.create_subscription(RoundPlan, names.ROUND_PLAN, plans.append, names.LATCHED)
    ros_node.create_subscription(FleetStatus, names.FLEET_STATUS, statuses.append, names.LATCHED)
    register = ros_node.create_client(RegisterRobot, names.REGISTER)
    fetch = ros_node.create_client(FetchModel, names.GLOBAL_MODEL)
    submit = ros_node.create_client(SubmitModel, names.SUBMIT_TO_SERVER)

    stranger = RobotProfile(robot_id='robot_9', sample_count=5, class_histogram=[5, 0, 0, 0, 0, 0], labeller='angle')
    assert not call(ros_node, register, RegisterRobot.Request(profile=stranger), timeout_s=60).accepted
    for robot in setup.robots:
        profile = RobotProfile(robot_id=robot, sample_count=8, class_histogram=[2, 2, 1, 1, 1, 1], labeller='angle')
        assert call(ros_node, register, RegisterRobot.Request(profile=profile)).accepted
    spin_until(ros_node, lambda: plans, timeout_s=60)
    assert plans[-1].round == 0 and plans[-1].method == 'fedavg' and not plans[-1].top_level_ids

    assert not call(ros_node, fetch, FetchModel.Request(requester='robot_0', round=3)).available
    response = call(ros_node, fetch, FetchModel.Request(requester='robot_0', round=0))
    assert response.available
    blob = response.blob
    assert hashlib.sha256(blob.payload.tobytes()).hexdigest() == blob.sha256

    def submitted(**changes):
        sent = type(blob)(**{name: getattr(blob, name) for name in blob.get_fields_and_field_types()})
        sent.sender, sent.sample_count, sent.local_steps = 'robot_0', 8, 1.0
        for name, value in changes.items():
            setattr(sent, name, value)
        return call(ros_node, submit, SubmitModel.Request(blob=sent))

    corrupted = bytearray(blob.payload.tobytes())
    corrupted[-1] ^= 0xFF
    refusals = [submitted(payload=bytes(corrupted)), submitted(round=5), submitted(sender='robot_9')]
    assert [r.accepted for r in refusals] == [False, False, False]
    assert 'sha256' in refusals[0].message
    assert 'round 5' in refusals[1].message
    assert 'not expected' in refusals[2].message
    assert submitted().accepted
    duplicate = submitted()
    assert not duplicate.accepted and 'already submitted' in duplicate.message

    spin_until(ros_node, lambda: statuses and statuses[-1].rejected_submissions == 4)
    assert 'already submitted' in statuses[-1].last_rejection
    assert sorted(statuses[-1].registered_ids) == list(setup.robots)
    assert proc.poll() is None, ros_processes.log(proc)


@pytest.mark.slow
def test_bench_transfer_reports_service_and_raw_topic_throughput():
    result = subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'bench', 'transfer', '--model-mb', '1',
                             '--repeats', '3', '--json'], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    assert figures['model_mb'] == 1.0
    assert figures['service_mb_s'] > 0 and figures['raw_topic_mb_s'] > 0
    assert figures['ratio'] == pytest.approx(figures['service_mb_s'] / figures['raw_topic_mb_s'], rel=0.01)
