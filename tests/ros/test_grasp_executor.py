"""grasp_executor (sim backend) over real DDS in its own process: a pick succeeds with its
feedback phases in order, an unreachable grasp is refused and the node serves on, a cancelled
goal stops the arm, use_best_grasp takes the latest fresh grasps, a bad parameter stops it."""
import time

import pytest
from action_msgs.msg import GoalStatus
from sensor_msgs.msg import JointState

from mtf_grasp.plan import NodeSpec, command_line, write_params_file
from mtf_grasp_interfaces.action import PickGrasp
from mtf_grasp_interfaces.msg import GraspArray

from pick_goals import PickClient, box_grasp, grasp_array, one_box_seed

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(240)]


def _start_executor(ros_processes, tmp_path, seed: int, **parameters):
    spec = NodeSpec('grasp_executor', 'grasp_executor', 'robot_0',
                    {'scene_seed': seed, 'scene_objects': 1, 'real_time_factor': 1.0, **parameters})
    return ros_processes.start(command_line(spec, write_params_file([spec], tmp_path / 'p.yaml')), name='executor')


def test_pick_succeeds_after_an_unreachable_goal(ros_processes, ros_node, tmp_path):
    seed = one_box_seed()
    proc = _start_executor(ros_processes, tmp_path, seed)
    client = PickClient(ros_node)
    assert client.spin_until(lambda: client.client.server_is_ready(), timeout_s=60, proc=proc,
                             log=lambda: ros_processes.log(proc))
    # 1.5 m to the side of the camera: beyond the arm's 0.85 m reach.
    far = grasp_array(position=(0.0, 1.5, 0.4), quaternion=(0.0, 0.0, 0.0, 1.0), width_m=0.04)
    _, result = client.send(PickGrasp.Goal(grasps=far))
    assert client.spin_until(result.done, timeout_s=30)
    assert result.result().status == GoalStatus.STATUS_ABORTED
    assert result.result().result.reason == PickGrasp.Result.REASON_UNREACHABLE
    assert client.phases == []                                    # refused before moving

    _, result = client.send(PickGrasp.Goal(grasps=box_grasp(seed)))
    assert client.spin_until(result.done, timeout_s=60, proc=proc, log=lambda: ros_processes.log(proc))
    answer = result.result()
    assert answer.status == GoalStatus.STATUS_SUCCEEDED, answer.result.reason
    assert answer.result.success and answer.result.lifted_height_m > 0.08
    assert answer.result.grasp_pose.header.frame_id == 'base_link'
    assert list(dict.fromkeys(client.phases)) == ['approach', 'descend', 'close', 'lift']
    assert proc.poll() is None


def test_cancel_stops_the_arm(ros_processes, ros_node, tmp_path):
    seed = one_box_seed()
    proc = _start_executor(ros_processes, tmp_path, seed)
    joints: list[JointState] = []
    ros_node.create_subscription(JointState, '/robot_0/joint_states', joints.append, 10)
    client = PickClient(ros_node)
    assert client.spin_until(lambda: client.client.server_is_ready(), timeout_s=60, proc=proc,
                             log=lambda: ros_processes.log(proc))
    handle, result = client.send(PickGrasp.Goal(grasps=box_grasp(seed)))
    assert client.spin_until(lambda: 'descend' in client.phases, timeout_s=30)
    handle.cancel_goal_async()
    assert client.spin_until(result.done, timeout_s=30)
    assert result.result().status == GoalStatus.STATUS_CANCELED
    assert result.result().result.reason == PickGrasp.Result.REASON_CANCELED
    # Over the next half second (about 10 joint_states) the arm stays where it stopped.
    joints.clear()
    end = time.monotonic() + 0.5
    client.spin_until(lambda: time.monotonic() > end, timeout_s=1.0)
    assert len(joints) >= 3
    first = joints[0].position
    assert max(abs(a - b) for msg in joints for a, b in zip(msg.position, first)) < 0.01
    assert 'approach' in client.phases and 'close' not in client.phases


def test_use_best_grasp_takes_the_latest_array_and_refuses_a_stale_or_foreign_one(ros_processes, ros_node, tmp_path):
    seed = one_box_seed()
    proc = _start_executor(ros_processes, tmp_path, seed, warn_period_s=0.1)    # each refusal logged
    grasps = ros_node.create_publisher(GraspArray, '/robot_0/grasps', 10)
    client = PickClient(ros_node)
    assert client.spin_until(lambda: client.client.server_is_ready() and grasps.get_subscription_count() > 0,
                             timeout_s=60, proc=proc, log=lambda: ros_processes.log(proc))
    # The arrays and the goals travel on different topics: resend both until the node shows it used the array.
    stale = box_grasp(seed)
    assert _goal_until(client, grasps, stale, lambda answer: 'the latest grasps are older than grasp_max_age_s'
                       in ros_processes.log(proc), stamp=False).reason == PickGrasp.Result.REASON_NO_GRASP
    foreign = box_grasp(seed)
    foreign.header.frame_id = 'some_other_camera'
    assert _goal_until(client, grasps, foreign, lambda answer: "grasps in frame 'some_other_camera'"
                       in ros_processes.log(proc)).reason == PickGrasp.Result.REASON_NO_GRASP
    answer = _goal_until(client, grasps, box_grasp(seed), lambda answer: answer.reason != 'no_grasp')
    assert answer.success, answer.reason


def _goal_until(client, publisher, array, done, *, tries: int = 5, stamp: bool = True):
    """Publish `array` (`stamp`: freshly stamped) and send a use_best_grasp goal, until `done(result)`."""
    for _ in range(tries):
        if stamp:
            array.header.stamp = client.node.get_clock().now().to_msg()
        publisher.publish(array)
        _, result = client.send(PickGrasp.Goal(use_best_grasp=True))
        assert client.spin_until(result.done, timeout_s=60)
        answer = result.result().result
        if client.spin_until(lambda: done(answer), timeout_s=1.0):   # a log line may trail the result
            return answer
    raise AssertionError(f'no reaction in {tries} goals')


def test_a_bad_parameter_stops_the_node_in_one_line(ros_processes, tmp_path):
    spec = NodeSpec('grasp_executor', 'grasp_executor', 'robot_0', {'camera_rotation': [0.0, 0.0, 0.0, 2.0]})
    proc = ros_processes.start(command_line(spec, write_params_file([spec], tmp_path / 'p.yaml')), name='executor')
    assert proc.wait(timeout=60) == 2
    assert 'grasp_executor: error: /robot_0/grasp_executor parameter: camera_rotation must be a unit quaternion' \
        in ros_processes.log(proc)
