"""What the inference and replay launch tests share: a small model file, a launch description of
one of the shipped launch files, and the check of the first non-empty GraspArray."""
from __future__ import annotations

import time
from pathlib import Path

import torch
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_testing.actions import ReadyToTest
from rclpy.qos import QoSProfile, ReliabilityPolicy

from mtf_grasp.grasping import ModelSpec, build_model, save_model
from mtf_grasp.perception import topics
from mtf_grasp_interfaces.msg import GraspArray

ROOT = Path(__file__).resolve().parents[2]
NS = 'robot_0'
VERSION = 5


def write_model(path: Path) -> Path:
    torch.manual_seed(0)
    spec = ModelSpec(width=8, input_size=48)
    save_model(path, build_model(spec), spec, extra_meta={'version': VERSION})
    return path


def shipped_launch(name: str, **arguments: str) -> LaunchDescription:
    return LaunchDescription([
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(ROOT / 'launch' / name)),
                                 launch_arguments=arguments.items()),
        ReadyToTest(),
    ])


def assert_grasps_arrive(ros_node, *, width: int, height: int) -> None:
    """The launched node serves the written model: at most the config's top_k (5) grasps per frame,
    in the camera's pixels."""
    array = first_grasps(ros_node)
    assert array.model_version == VERSION and array.model_architecture == 'grconvnet'
    assert 0 < len(array.grasps) <= 5
    assert all(0 <= g.center_x < width and 0 <= g.center_y < height for g in array.grasps)


def first_grasps(ros_node, *, timeout_s: float = 120) -> GraspArray:
    """The first GraspArray with grasps on the robot's grasps topic (discovery and the first
    frames take a while on a loaded machine; the deadline bounds the test, nothing waits on it)."""
    arrays: list[GraspArray] = []
    ros_node.create_subscription(GraspArray, f'/{NS}/{topics.GRASPS}', arrays.append,
                                 QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    deadline = time.monotonic() + timeout_s
    while not any(a.grasps for a in arrays):
        assert time.monotonic() < deadline, f'no grasps on /{NS}/{topics.GRASPS} in {timeout_s} s ({len(arrays)} empty arrays)'
        ros_node.executor.spin_once(timeout_sec=0.1)
    return next(a for a in arrays if a.grasps)
