"""Grasps from a live camera on a full ROS 2 install:
`ros2 launch mtf_grasp inference.launch.py model_path:=FILE [config:=FILE] [camera:=realsense|sim|none]`.
Nodes and parameters come from `mtf_grasp.perception_plan.inference_plan` (config/inference.yaml).
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from mtf_grasp.perception_plan import inference_plan
from mtf_grasp.plan import launch_actions


def _nodes(context):
    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    overrides = {'grasp_inference': {'model_path': arg('model_path')}} if arg('model_path') else {}
    if arg('camera'):
        overrides['camera'] = arg('camera')
    return launch_actions(inference_plan(arg('config'), overrides=overrides))


def generate_launch_description():
    share = get_package_share_directory('mtf_grasp')
    return LaunchDescription([
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'inference.yaml'),
                              description='inference YAML (camera, grasp_inference parameters)'),
        DeclareLaunchArgument('model_path', default_value='', description="override the config's model file"),
        DeclareLaunchArgument('camera', default_value='', description="override the config's camera"),
        OpaqueFunction(function=_nodes),
    ])
