"""A grasp seen by the camera -> the top-down pick an arm executes, in the robot base frame.

Tool frame (what the executed pose describes): origin at the centre between the fingertips,
z = approach (pointing down, into the table), x = the direction the fingers close along. The
pick keeps the detected grasp's centre and closing direction, turned top-down: a parallel gripper
seen from above only needs the yaw of its closing axis, folded into (-pi/2, pi/2].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mtf_grasp.perception.extrinsics import CameraExtrinsics, matrix_to_quaternion, quaternion_to_matrix

GRASP_DEPTH_M = 0.02        # fingertips this far below the surface seen at the grasp centre
TABLE_CLEARANCE_M = 0.003   # ... but never closer than this to the table top


@dataclass(frozen=True)
class PickPose:
    position: tuple[float, float, float]     # fingertip centre, base frame, metres
    yaw: float                               # closing axis about base z, (-pi/2, pi/2]
    width_m: float                           # opening between the finger pads

    @property
    def rotation_matrix(self) -> np.ndarray:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return np.array([[c, s, 0.0], [s, -c, 0.0], [0.0, 0.0, -1.0]])   # columns: x, y = z × x, z down

    @property
    def orientation(self) -> tuple[float, float, float, float]:
        return matrix_to_quaternion(self.rotation_matrix)

    def raised(self, dz: float) -> 'PickPose':
        x, y, z = self.position
        return PickPose(position=(x, y, z + dz), yaw=self.yaw, width_m=self.width_m)


def fold_yaw(yaw: float) -> float:
    """A parallel gripper is symmetric under a half turn: yaw into (-pi/2, pi/2]."""
    yaw = math.remainder(yaw, math.pi)
    return math.pi / 2 if yaw <= -math.pi / 2 else yaw


def pick_from_grasp(*, position_camera, orientation_camera, width_m: float, extrinsics: CameraExtrinsics,
                    grasp_depth: float = GRASP_DEPTH_M, table_z: float = 0.0,
                    table_clearance: float = TABLE_CLEARANCE_M) -> PickPose | None:
    """The top-down pick of a grasp pose in the camera frame (`perception.grasp_pose`'s output:
    closing axis = its x axis). None when the grasp has no width (no depth at its centre) or its
    closing axis is vertical in the base frame (the camera looks along the table)."""
    if not width_m > 0:
        return None
    centre = extrinsics.point_to_base(position_camera)
    closing = extrinsics.rotation_matrix @ quaternion_to_matrix(orientation_camera)[:, 0]
    if math.hypot(closing[0], closing[1]) < 1e-3:
        return None
    z = max(float(centre[2]) - grasp_depth, table_z + table_clearance)
    return PickPose(position=(float(centre[0]), float(centre[1]), z),
                    yaw=fold_yaw(math.atan2(closing[1], closing[0])), width_m=float(width_m))
