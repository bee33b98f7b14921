"""Arm side of a pick, without ROS: the grasp_executor's settings and the `pose_goals` contract
(the sequence of poses and gripper commands a real arm's driver executes). The simulated arm is
in `mtf_grasp.sim` (arm, arm_scene, pick); the transform chain in `mtf_grasp.perception`."""
from mtf_grasp.arm.pose_goals import STEP_PHASES, PoseStep, pick_steps
from mtf_grasp.arm.settings import ExecutorConfig

__all__ = ['ExecutorConfig', 'PoseStep', 'STEP_PHASES', 'pick_steps']
