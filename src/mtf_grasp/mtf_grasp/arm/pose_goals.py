"""The `pose_goals` contract: a pick as the ordered commands a real arm's driver executes.

Topics (relative to the robot namespace; docs/picking.md):
  arm/pose_goal        geometry_msgs/PoseStamped   tool pose (fingertip centre, z = approach,
                                                   x = closing axis) in the base frame
  arm/gripper_command  sensor_msgs/JointState      name ['gripper_opening'], position [metres]
  arm/done             std_msgs/Header             from the driver: the finished command's
                                                   stamp, frame_id 'ok' or a reason code
  arm/cancel           std_msgs/Header             the executor gave up on the command with this stamp
Every command's header stamp is unique; the driver runs commands in order and echoes each stamp
once on arm/done, once its arm/done publisher is matched with a subscription (the executor sees
its own side of the match, not the driver's: an answer sent before that goes to nobody).
"""
from __future__ import annotations

from dataclasses import dataclass

from mtf_grasp.perception.pick_pose import PickPose

POSE_GOAL, GRIPPER_COMMAND, DONE, CANCEL = 'arm/pose_goal', 'arm/gripper_command', 'arm/done', 'arm/cancel'
GRIPPER_JOINT = 'gripper_opening'
OK = 'ok'
STEP_PHASES = ('approach', 'approach', 'descend', 'close', 'lift')


@dataclass(frozen=True)
class PoseStep:
    phase: str
    pose: PickPose | None = None        # a tool pose goal, or
    opening_m: float | None = None      # a gripper opening (0: close with the gripper's force)


def pick_steps(pick: PickPose, *, approach_height: float, lift_height: float) -> list[PoseStep]:
    """Open, go above the grasp, go down to it, close, lift straight up."""
    return [PoseStep('approach', opening_m=pick.width_m),
            PoseStep('approach', pose=pick.raised(approach_height)),
            PoseStep('descend', pose=pick),
            PoseStep('close', opening_m=0.0),
            PoseStep('lift', pose=pick.raised(lift_height))]
