"""launch/pick.launch.py run by launch_pytest: sim_camera -> grasp_inference -> grasp_executor (the
simulated arm), every node its own process. One PickGrasp goal for the best current grasp ends with
a result. The model is untrained, so the pick itself may fail: what is checked is that the launched
loop serves the action end to end, with feedback phases and a known reason."""
import time

import pytest
import yaml

launch_pytest = pytest.importorskip(
    'launch_pytest', reason='launch_pytest is not importable: `make setup` builds it from '
                            '../shared/ros2-from-source where that folder exists (docs/testing.md)')

from perception_launch import NS, ROOT, first_grasps, shipped_launch, write_model  # noqa: E402
from rclpy.action import ActionClient  # noqa: E402

from mtf_grasp_interfaces.action import PickGrasp  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]
REASONS = {'unreachable', 'collision', 'empty_grasp', 'slipped', 'timeout', 'no_grasp'}


@launch_pytest.fixture
def pick_launch(tmp_path):
    config = yaml.safe_load((ROOT / 'config' / 'pick.yaml').read_text())
    config['grasp_executor']['real_time_factor'] = 0.0     # the arm as fast as the CPU allows
    (tmp_path / 'pick.yaml').write_text(yaml.safe_dump(config))
    return shipped_launch('pick.launch.py', config=str(tmp_path / 'pick.yaml'),
                          model_path=str(write_model(tmp_path / 'model.safetensors')))


def _spin_until(node, condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        node.executor.spin_once(timeout_sec=0.05)
    return bool(condition())


@pytest.mark.launch(fixture=pick_launch)
def test_pick_launch_serves_a_pick_goal_end_to_end(ros_node):
    first_grasps(ros_node)                       # camera and grasp_inference are up
    client = ActionClient(ros_node, PickGrasp, f'/{NS}/pick')
    assert _spin_until(ros_node, client.server_is_ready, 60), f'no action server on /{NS}/pick'
    phases = []
    sent = client.send_goal_async(PickGrasp.Goal(use_best_grasp=True),
                                  feedback_callback=lambda msg: phases.append(msg.feedback.phase))
    assert _spin_until(ros_node, sent.done, 30) and sent.result().accepted
    result_future = sent.result().get_result_async()
    assert _spin_until(ros_node, result_future.done, 180), f'no result; phases so far {phases}'
    result = result_future.result().result
    assert result.success or result.reason in REASONS, result.reason
    assert result.cycle_s > 0
    if result.reason not in ('no_grasp', 'unreachable'):    # the arm moved: it began with the approach
        assert phases and phases[0] == 'approach', phases
        assert result.grasp_pose.header.frame_id == 'base_link'
