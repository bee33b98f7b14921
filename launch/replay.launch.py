"""Grasps from a recorded bag on a full ROS 2 install:
`ros2 launch mtf_grasp replay.launch.py bag_path:=BAG model_path:=FILE [config:=FILE]`.
Nodes and parameters come from `mtf_grasp.perception_plan.replay_plan` (config/replay.yaml).
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from mtf_grasp.perception_plan import replay_plan
from mtf_grasp.plan import launch_actions


def _nodes(context):
    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    overrides = {}
    if arg('bag_path'):
        overrides['bag_replayer'] = {'bag_path': arg('bag_path')}
    if arg('model_path'):
        overrides['grasp_inference'] = {'model_path': arg('model_path')}
    return launch_actions(replay_plan(arg('config'), overrides=overrides))


def generate_launch_description():
    share = get_package_share_directory('mtf_grasp')
    return LaunchDescription([
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'replay.yaml'),
                              description='replay YAML (bag_replayer, grasp_inference parameters)'),
        DeclareLaunchArgument('bag_path', default_value='', description="override the config's bag"),
        DeclareLaunchArgument('model_path', default_value='', description="override the config's model file"),
        OpaqueFunction(function=_nodes),
    ])
