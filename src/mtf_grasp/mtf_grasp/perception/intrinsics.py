"""Pinhole intrinsics of the colour camera: one camera model whether frames come from a RealSense,
a bag or the simulator (`mtf_grasp.sim` imports it from here). Pixel centres at integer coordinates;
points in the ROS optical frame (x right, y down, z forward)."""
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
