"""A pixel grasp rectangle -> a 6-D gripper pose in the camera optical frame.

Optical frame: x right, y down, z forward (REP 103), the same axes as image pixels. The gripper
frame has z = approach (the optical axis, into the scene) and x = closing direction; a rectangle
angle θ (as in `grasping.GraspRect`) points the closing axis along (cos θ, sin θ) in the image,
so the gripper is the camera frame turned by θ about z.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mtf_grasp.perception.intrinsics import CameraIntrinsics


@dataclass(frozen=True)
class GraspPose:
    position: tuple[float, float, float]               # metres
    orientation: tuple[float, float, float, float]     # quaternion x, y, z, w
    width_m: float                                      # gripper opening


def centre_depth(depth_m: np.ndarray, *, x: float, y: float, window: int = 5) -> float | None:
    """Median of the valid (finite, > 0) depths in a `window`² patch around (x, y), or None."""
    h, w = depth_m.shape
    col, row = int(round(x)), int(round(y))
    half = window // 2
    patch = depth_m[max(row - half, 0):min(row + half + 1, h), max(col - half, 0):min(col + half + 1, w)]
    valid = np.sort(patch[np.isfinite(patch) & (patch > 0)], axis=None)
    if not valid.size:
        return None
    return float((valid[(valid.size - 1) // 2] + valid[valid.size // 2]) / 2)   # np.median, 5x faster on 25 values


def grasp_pose(*, x: float, y: float, angle: float, length_px: float, depth_m: np.ndarray,
               intrinsics: CameraIntrinsics, window: int = 5) -> GraspPose | None:
    """Back-project the rectangle centre at its depth; None when no valid depth is near it."""
    z = centre_depth(depth_m, x=x, y=y, window=window)
    if z is None:
        return None
    k = intrinsics
    position = tuple(float(v) for v in k.deproject(x, y, z))
    orientation = (0.0, 0.0, math.sin(angle / 2.0), math.cos(angle / 2.0))
    width_m = length_px * z * math.hypot(math.cos(angle) / k.fx, math.sin(angle) / k.fy)
    return GraspPose(position=position, orientation=orientation, width_m=width_m)
