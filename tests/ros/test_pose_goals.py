"""grasp_executor's pose_goals backend against a stand-in driver node, over real DDS."""
from pathlib import Path

import pytest
from action_msgs.msg import GoalStatus
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import JointState

from mtf_grasp.arm import pose_goals as contract
from mtf_grasp.plan import NodeSpec, command_line, write_params_file
from mtf_grasp_interfaces.action import PickGrasp

from pick_goals import PickClient, grasp_array

pytestmark = [pytest.mark.ros, pytest.mark.timeout(120)]
DRIVER = Path(__file__).with_name('standin_arm_driver.py')
# 0.4 m in front of the camera, 4 cm left of its centre: base (0.45, -0.04, 0.07) with the default mount.
GRASP = grasp_array(position=(0.0, 0.04, 0.40), quaternion=(0.0, 0.0, 0.0, 1.0), width_m=0.05)


def _start(ros_processes, tmp_path, mode: str, **parameters):
    spec = NodeSpec('grasp_executor', 'grasp_executor', 'robot_0', {'backend': 'pose_goals', **parameters})
    executor = ros_processes.start(command_line(spec, write_params_file([spec], tmp_path / 'p.yaml')),
                                   name='executor')
    driver = ros_processes.python(DRIVER, mode, name='driver')
    return executor, driver


def _pick(ros_node, executor, ros_processes):
    client = PickClient(ros_node)
    assert client.spin_until(lambda: client.client.server_is_ready(), timeout_s=60, proc=executor,
                             log=lambda: ros_processes.log(executor)), ros_processes.log(executor)
    _, result = client.send(PickGrasp.Goal(grasps=GRASP, approach_height_m=0.1, lift_height_m=0.15))
    # Longer than the executor's own wait for one driver answer (driver_timeout_s, 30 s by default), so a
    # lost answer fails as the executor's timeout reason, not as a test that stopped listening first.
    assert client.spin_until(result.done, timeout_s=45, proc=executor,
                             log=lambda: ros_processes.log(executor)), ros_processes.log(executor)
    return client, result.result()


def test_driver_gets_the_pick_as_poses_and_gripper_commands(ros_processes, ros_node, tmp_path):
    poses, gripper = [], []
    ros_node.create_subscription(PoseStamped, f'/robot_0/{contract.POSE_GOAL}', poses.append, 10)
    ros_node.create_subscription(JointState, f'/robot_0/{contract.GRIPPER_COMMAND}', gripper.append, 10)
    executor, driver = _start(ros_processes, tmp_path, 'ok')
    PickClient(ros_node).spin_until(lambda: all(ros_node.count_publishers(f'/robot_0/{t}') for t in (
        contract.POSE_GOAL, contract.GRIPPER_COMMAND)), timeout_s=60)      # our probes see the executor
    client, answer = _pick(ros_node, executor, ros_processes)
    assert answer.status == GoalStatus.STATUS_SUCCEEDED and answer.result.success
    assert list(dict.fromkeys(client.phases)) == ['approach', 'descend', 'lift']
    # The driver answered the last pose before the result came, but our own copies of the poses and
    # gripper commands travel on other topics: the result can overtake them (seen under load).
    assert client.spin_until(lambda: len(poses) >= 3 and len(gripper) >= 2, timeout_s=10)
    # Surface at base z 0.47 - 0.40 = 0.07; the fingertips go 2 cm below it.
    assert [round(p.pose.position.z, 4) for p in poses] == [0.15, 0.05, 0.2]
    assert all(p.header.frame_id == 'base_link' for p in poses)
    assert poses[1].pose.position.x == pytest.approx(0.45) and poses[1].pose.position.y == pytest.approx(-0.04)
    assert [(g.name[0], round(g.position[0], 4)) for g in gripper] == [('gripper_opening', 0.05),
                                                                       ('gripper_opening', 0.0)]


def test_driver_failure_and_silence_become_reasons(ros_processes, ros_node, tmp_path):
    executor, _ = _start(ros_processes, tmp_path, 'fail_descend')
    _, answer = _pick(ros_node, executor, ros_processes)
    assert answer.status == GoalStatus.STATUS_ABORTED and answer.result.reason == 'collision'


def test_silent_driver_times_out(ros_processes, ros_node, tmp_path):
    executor, _ = _start(ros_processes, tmp_path, 'silent', driver_timeout_s=1.0)
    _, answer = _pick(ros_node, executor, ros_processes)
    assert answer.status == GoalStatus.STATUS_ABORTED and answer.result.reason == PickGrasp.Result.REASON_TIMEOUT
