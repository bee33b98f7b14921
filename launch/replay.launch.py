"""Grasps from a recorded bag on a full ROS 2 install:
`ros2 launch mtf_grasp replay.launch.py bag_path:=BAG model_path:=FILE [config:=FILE]`.
Nodes and parameters come from `mtf_grasp.perception_plan.replay_plan` (config/replay.yaml).
"""
from mtf_grasp.perception_plan import plan_launch_description, replay_plan


def generate_launch_description():
    return plan_launch_description(replay_plan, config_name='replay.yaml', arguments={
        'bag_path': ('bag_replayer', 'bag_path', "override the config's bag directory"),
        'model_path': ('grasp_inference', 'model_path', "override the config's model file"),
    })
