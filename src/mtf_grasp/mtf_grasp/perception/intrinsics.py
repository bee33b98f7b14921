"""Pinhole intrinsics of the colour camera.

Same fields as `mtf_grasp.sim.camera.CameraIntrinsics` (functions here accept either), kept apart
so the arm-side nodes never import MuJoCo and its GL set-up through `mtf_grasp.sim`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CameraIntrinsics:
    """Focal lengths and principal point in pixels for a `width` x `height` image (no distortion)."""
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def deproject(self, u: float, v: float, z: float) -> tuple[float, float, float]:
        """Pixel (u, v) at z-depth `z` metres -> point in the optical frame."""
        return ((u - self.cx) * z / self.fx, (v - self.cy) * z / self.fy, z)
