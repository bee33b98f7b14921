"""Grasps from a live camera on a full ROS 2 install:
`ros2 launch mtf_grasp inference.launch.py model_path:=FILE [camera:=realsense|sim|none] [config:=FILE]`.
Nodes and parameters come from `mtf_grasp.perception_plan.inference_plan` (config/inference.yaml).
"""
from mtf_grasp.perception_plan import inference_plan, plan_launch_description


def generate_launch_description():
    return plan_launch_description(inference_plan, config_name='inference.yaml', arguments={
        'model_path': ('grasp_inference', 'model_path', "override the config's model file"),
        'camera': (None, 'camera', "override the config's camera: realsense, sim or none"),
    })
