"""launch/replay.launch.py run by launch_pytest on a bag written from a small dataset: grasps come out."""
import sys
from pathlib import Path

import pytest

launch_pytest = pytest.importorskip(
    'launch_pytest', reason='launch_pytest is not importable: `make setup` builds it from '
                            '../shared/ros2-from-source where that folder exists (docs/testing.md)')

from perception_launch import assert_grasps_arrive, shipped_launch, write_model  # noqa: E402

from mtf_grasp.bags import write_dataset_bag  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'ros'))
from fleet_testdata import write_jacquard_boxes  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@launch_pytest.fixture
def replay_launch(tmp_path):
    data = write_jacquard_boxes(tmp_path / 'data', samples=4)
    write_dataset_bag(data, tmp_path / 'bag', period_s=0.2, progress=False)
    # The shipped config/replay.yaml: it loops the bag and starts once grasp_inference listens.
    return shipped_launch('replay.launch.py', bag_path=str(tmp_path / 'bag'),
                          model_path=str(write_model(tmp_path / 'model.safetensors')))


@pytest.mark.launch(fixture=replay_launch)
def test_replay_launch_publishes_grasps_for_the_bag(ros_node):
    assert_grasps_arrive(ros_node, width=64, height=64)
