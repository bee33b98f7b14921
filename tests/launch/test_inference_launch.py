"""inference.launch.py and replay.launch.py build their nodes from the plans (needs `launch_ros`)."""
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip('launch', reason='ROS 2 `launch` is not installed (pip set-up); run on a full ROS 2 install')
pytest.importorskip('launch_ros', reason='`launch_ros` is not installed (pip set-up); run on a full ROS 2 install')

from launch import LaunchContext  # noqa: E402
from launch.actions import OpaqueFunction  # noqa: E402
from launch_ros.actions import Node  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _nodes(launch_file: str, **arguments) -> list:
    spec = importlib.util.spec_from_file_location('launch_under_test', ROOT / 'launch' / launch_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    context = LaunchContext()
    context.launch_configurations.update(arguments)
    nodes = []
    for entity in description.entities:
        if isinstance(entity, OpaqueFunction):
            nodes += [e for e in entity.execute(context) or [] if isinstance(e, Node)]
        else:
            entity.visit(context)
    return nodes


def test_inference_launch_builds_camera_and_inference(tmp_path):
    nodes = _nodes('inference.launch.py', config=str(ROOT / 'config' / 'inference.yaml'),
                   model_path=str(tmp_path / 'm.safetensors'), camera='sim')
    assert [n.node_executable for n in nodes] == ['sim_camera', 'grasp_inference']


def test_replay_launch_builds_replayer_and_inference(tmp_path):
    nodes = _nodes('replay.launch.py', config=str(ROOT / 'config' / 'replay.yaml'), bag_path=str(tmp_path),
                   model_path=str(tmp_path / 'm.safetensors'))
    assert [n.node_executable for n in nodes] == ['bag_replayer', 'grasp_inference']
