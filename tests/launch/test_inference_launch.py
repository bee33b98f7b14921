"""launch/inference.launch.py run by launch_pytest with the simulated camera: grasps come out."""
import pytest
import yaml

launch_pytest = pytest.importorskip(
    'launch_pytest', reason='launch_pytest is not importable: `make setup` builds it from '
                            '../shared/ros2-from-source where that folder exists (docs/testing.md)')

from perception_launch import ROOT, assert_grasps_arrive, shipped_launch, write_model  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@launch_pytest.fixture
def inference_launch(tmp_path):
    # The shipped config, but keeping every grasp: an untrained model's qualities are low.
    config = yaml.safe_load((ROOT / 'config' / 'inference.yaml').read_text())
    config['grasp_inference']['min_quality'] = 0.0
    (tmp_path / 'inference.yaml').write_text(yaml.safe_dump(config))
    return shipped_launch('inference.launch.py', config=str(tmp_path / 'inference.yaml'), camera='sim',
                          model_path=str(write_model(tmp_path / 'model.safetensors')))


@pytest.mark.launch(fixture=inference_launch)
def test_inference_launch_with_the_sim_camera_publishes_grasps(ros_node):
    assert_grasps_arrive(ros_node, width=640, height=480)
