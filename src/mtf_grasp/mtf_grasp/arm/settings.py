"""Parameters of the grasp_executor node (one ROS parameter per field; config/pick.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mtf_grasp.perception.extrinsics import CameraExtrinsics
from mtf_grasp.perception.pick_pose import GRASP_DEPTH_M


@dataclass(frozen=True)
class ExecutorConfig(CameraExtrinsics):
    backend: Literal['sim', 'pose_goals'] = field(default='sim', metadata={
        'help': "'sim': the simulated UR5e-like arm; 'pose_goals': poses and gripper commands for a real "
                "arm's driver (docs/picking.md)"})
    approach_height_m: float = field(default=0.12, metadata={'help': 'pre-grasp pose this far above the grasp'})
    lift_height_m: float = field(default=0.12, metadata={'help': 'lift this far after closing'})
    grasp_depth_m: float = field(default=GRASP_DEPTH_M, metadata={
        'help': 'fingertips this far below the surface seen at the grasp centre'})
    table_height_m: float = field(default=0.0, metadata={'help': 'table top z in the base frame'})
    grasp_max_age_s: float = field(default=5.0, metadata={
        'help': 'use_best_grasp: the latest GraspArray must be at most this old'})
    warn_period_s: float = field(default=5.0, metadata={'help': 'at most one warning of a kind per period'})
    # sim backend
    scene_seed: int = field(default=0, metadata={'help': 'sim: seed of the first scene (as sim_camera)'})
    scene_objects: int = field(default=0, metadata={'help': 'sim: objects per scene; 0: 1-4 at random'})
    scene_topic: str = field(default='sim/scene', metadata={
        'help': 'sim: std_msgs/Int64 seed of the next scene (latched), shared with sim_camera'})
    real_time_factor: float = field(default=1.0, metadata={
        'help': 'sim: simulated seconds per wall-clock second; 0: as fast as the CPU allows'})
    joint_state_rate_hz: float = field(default=20.0, metadata={'help': 'sim: joint_states publishing rate'})
    # pose_goals backend
    driver_timeout_s: float = field(default=30.0, metadata={
        'help': 'pose_goals: a step the driver has not reported done within this is a timeout'})

    def __post_init__(self):
        super().__post_init__()
        if self.approach_height_m <= 0 or self.lift_height_m <= 0 or self.grasp_depth_m < 0:
            raise ValueError(f'need approach_height_m > 0, lift_height_m > 0, grasp_depth_m >= 0; got '
                             f'{self.approach_height_m}, {self.lift_height_m}, {self.grasp_depth_m}')
        if self.real_time_factor < 0 or self.joint_state_rate_hz <= 0 or self.driver_timeout_s <= 0:
            raise ValueError(f'need real_time_factor >= 0, joint_state_rate_hz > 0, driver_timeout_s > 0; got '
                             f'{self.real_time_factor}, {self.joint_state_rate_hz}, {self.driver_timeout_s}')
