"""The inference and replay plans from the shipped YAML files: nodes, namespaces, parameters, errors."""
from pathlib import Path

import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.perception_plan import inference_plan, replay_plan

CONFIG = Path(__file__).resolve().parents[3] / 'config'


def test_inference_plan_from_the_shipped_config(tmp_path):
    model = tmp_path / 'm.safetensors'
    specs = inference_plan(CONFIG / 'inference.yaml', overrides={'grasp_inference': {'model_path': str(model)}})
    assert [(s.executable, s.namespace) for s in specs] == [('realsense_camera', 'robot_0'),
                                                             ('grasp_inference', 'robot_0')]
    params = specs[1].parameters
    assert params['model_path'] == str(model) and params['backend'] == 'onnxruntime'
    assert params['top_k'] == 5 and params['min_quality'] == 0.2


def test_camera_choice_and_relative_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    specs = inference_plan(CONFIG / 'inference.yaml', overrides={'camera': 'sim', 'namespace': 'arm_2',
                                                                 'grasp_inference': {'model_path': 'm.safetensors'}})
    assert [s.executable for s in specs] == ['sim_camera', 'grasp_inference']
    assert {s.fully_qualified_name for s in specs} == {'/arm_2/sim_camera', '/arm_2/grasp_inference'}
    assert specs[1].parameters['model_path'] == str(tmp_path / 'm.safetensors')
    assert [s.executable for s in inference_plan(CONFIG / 'inference.yaml', overrides={'camera': 'none'})] == [
        'grasp_inference']


def test_replay_plan_keeps_the_section_defaults(tmp_path):
    specs = replay_plan(CONFIG / 'replay.yaml', overrides={'bag_replayer': {'bag_path': str(tmp_path)}})
    replayer, inference = specs
    assert replayer.parameters == {'bag_path': str(tmp_path), 'rate': 1.0, 'loop': True,
                                   'wait_for_subscribers': 1, 'wait_timeout_s': 30.0}
    assert inference.parameters['slop_s'] == 0.02


@pytest.mark.parametrize('text, message', [
    ('camera: kinect\n', r"\.camera: 'kinect' is not one of"),
    ('grasp_inference: {top_k: 0}\n', r'\.grasp_inference: need top_k >= 1'),
    ('bag_replayer: {rate: fast}\n', r'\.bag_replayer\.rate: expected a number'),
    ('grasp_inference: {backend: tensorrt}\n', r'\.grasp_inference\.backend'),
])
def test_bad_config_values_name_the_field(tmp_path, text, message):
    path = tmp_path / 'bad.yaml'
    path.write_text(text)
    plan = replay_plan if 'bag_replayer' in text else inference_plan
    with pytest.raises(InputError, match=message):
        plan(path)
