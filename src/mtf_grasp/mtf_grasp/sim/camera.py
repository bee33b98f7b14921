"""Pinhole camera: RealSense-like intrinsics, a pose in the world, pixel <-> point conversions.

Camera frames follow the ROS optical convention (x right, y down, z forward), so the points and
poses computed here can be published as they are in a `camera_color_optical_frame`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CameraIntrinsics:
    """Focal lengths and principal point in pixels (pixel centres at integer coordinates)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def realsense_d435(cls, width: int = 640, height: int = 480) -> 'CameraIntrinsics':
        """The D435 colour stream at 640x480 (fx = fy ~ 615), principal point at the centre."""
        f = 615.0 * width / 640.0
        return cls(fx=f, fy=f, cx=(width - 1) / 2.0, cy=(height - 1) / 2.0, width=width, height=height)

    @property
    def fovy_deg(self) -> float:
        """Vertical field of view, as MuJoCo's camera wants it."""
        return math.degrees(2.0 * math.atan(self.height / 2.0 / self.fy))

    def to_dict(self) -> dict:
        return {'fx': self.fx, 'fy': self.fy, 'cx': self.cx, 'cy': self.cy,
                'width': self.width, 'height': self.height}

    def deproject(self, u: np.ndarray | float, v: np.ndarray | float,
                  depth: np.ndarray | float) -> np.ndarray:
        """Pixel(s) and z-depth in metres -> point(s) in the camera optical frame, shape (..., 3)."""
        z = np.asarray(depth, dtype=float)
        x = (np.asarray(u, dtype=float) - self.cx) * z / self.fx
        y = (np.asarray(v, dtype=float) - self.cy) * z / self.fy
        return np.stack(np.broadcast_arrays(x, y, z), axis=-1)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Points (..., 3) in the camera optical frame -> pixels (..., 2) as (u, v)."""
        p = np.asarray(points, dtype=float)
        return np.stack([self.fx * p[..., 0] / p[..., 2] + self.cx,
                         self.fy * p[..., 1] / p[..., 2] + self.cy], axis=-1)


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
