"""Camera pose in the world; the pinhole intrinsics are perception's `CameraIntrinsics`.

Camera frames follow the ROS optical convention (x right, y down, z forward), so the points and
poses computed here can be published as they are in a `camera_color_optical_frame`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CameraPose:
    """World <- camera-optical-frame transform: p_world = rotation @ p_cam + position."""

    position: tuple[float, float, float]
    rotation: tuple[tuple[float, float, float], ...]  # 3x3, row-major

    @classmethod
    def look_at(cls, eye, target, *, roll: float = 0.0) -> 'CameraPose':
        """A camera at `eye` looking at `target`, rotated by `roll` radians about its optical axis."""
        eye, target = np.asarray(eye, float), np.asarray(target, float)
        z = target - eye
        z /= np.linalg.norm(z)
        # Reference "image up" is world +y; a camera looking straight down still has a defined x.
        x = np.cross(z, [0.0, 1.0, 0.0])
        if np.linalg.norm(x) < 1e-6:
            x = np.array([1.0, 0.0, 0.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        c, s = math.cos(roll), math.sin(roll)
        x, y = c * x + s * y, -s * x + c * y
        rot = np.stack([x, y, z], axis=1)
        return cls(position=tuple(map(float, eye)), rotation=tuple(tuple(map(float, r)) for r in rot))

    @property
    def matrix(self) -> np.ndarray:
        """4x4 homogeneous world <- camera transform."""
        m = np.eye(4)
        m[:3, :3] = self.rotation
        m[:3, 3] = self.position
        return m

    def to_world(self, points_cam: np.ndarray) -> np.ndarray:
        return np.asarray(points_cam, float) @ np.asarray(self.rotation).T + np.asarray(self.position)

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        return (np.asarray(points_world, float) - np.asarray(self.position)) @ np.asarray(self.rotation)
