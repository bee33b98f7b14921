"""The pick loop on a full ROS 2 install: camera, grasp_inference and grasp_executor (PickGrasp on
`<namespace>/pick`): `ros2 launch mtf_grasp pick.launch.py model_path:=FILE [camera:=sim|realsense|none]
[backend:=sim|pose_goals] [config:=FILE]`. Nodes and parameters come from
`mtf_grasp.pick_plan.pick_plan` (config/pick.yaml), as for `mtf-grasp pick-trials`.
"""
from mtf_grasp.perception_plan import plan_launch_description
from mtf_grasp.pick_plan import pick_plan


def generate_launch_description():
    return plan_launch_description(pick_plan, config_name='pick.yaml', arguments={
        'model_path': ('grasp_inference', 'model_path', "override the config's model file"),
        'camera': (None, 'camera', "override the config's camera: sim, realsense or none"),
        'backend': ('grasp_executor', 'backend', "override the executor backend: sim or pose_goals"),
    })
