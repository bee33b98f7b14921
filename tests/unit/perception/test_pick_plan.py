"""The pick plan from the shipped config/pick.yaml: nodes, the one calibration, errors."""
from pathlib import Path

import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.pick_plan import pick_plan

CONFIG = Path(__file__).resolve().parents[3] / 'config' / 'pick.yaml'


def test_pick_plan_hands_the_extrinsics_to_every_node_that_needs_them(tmp_path):
    model = tmp_path / 'm.safetensors'
    specs = pick_plan(CONFIG, overrides={'grasp_inference': {'model_path': str(model)},
                                         'extrinsics': {'camera_translation': [0.5, 0.1, 0.6]}})
    assert [(s.executable, s.namespace) for s in specs] == [
        ('sim_camera', 'robot_0'), ('grasp_inference', 'robot_0'), ('grasp_executor', 'robot_0')]
    for spec in specs:
        assert spec.parameters['camera_translation'] == (0.5, 0.1, 0.6)
        assert spec.parameters['camera_rotation'] == (1.0, 0.0, 0.0, 0.0)
        assert spec.parameters['base_frame'] == 'base_link'
    camera, inference, executor = (s.parameters for s in specs)
    assert camera['mount_camera'] and camera['scene_topic'] == executor['scene_topic'] == 'sim/scene'
    assert inference['model_path'] == str(model) and inference['clearance_check']
    assert executor['backend'] == 'sim'


def test_real_arm_plan(tmp_path):
    specs = pick_plan(CONFIG, overrides={'camera': 'realsense', 'grasp_executor': {'backend': 'pose_goals'}})
    assert [s.executable for s in specs] == ['realsense_camera', 'grasp_inference', 'grasp_executor']
    assert 'camera_translation' not in specs[0].parameters
    assert specs[2].parameters['backend'] == 'pose_goals'


@pytest.mark.parametrize('text, message', [
    ('extrinsics: {camera_rotation: [0, 0, 0, 3]}\n', r'camera_rotation must be a unit quaternion'),
    ('extrinsics: {camera_translation: [0, 0]}\n', r'camera_translation needs 3'),
    ('extrinsics: [1, 2]\n', r'\.extrinsics: expected a mapping'),
    ('grasp_executor: {backend: moveit}\n', r"\.grasp_executor\.backend: 'moveit' is not one of"),
    ('grasp_executor: {lift_height_m: 0}\n', r'\.grasp_executor: need approach_height_m > 0'),
])
def test_bad_values_name_the_field(tmp_path, text, message):
    path = tmp_path / 'bad.yaml'
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        pick_plan(path)
