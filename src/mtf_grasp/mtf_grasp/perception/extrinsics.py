"""Camera -> robot base: the extrinsic calibration as a rigid transform, and the transform chain
pixel + depth -> camera optical frame -> base frame.

Quaternions are (x, y, z, w), as in geometry_msgs. `CameraExtrinsics` is also the parameter set
of every node that needs the calibration (its fields are ROS parameters, in config/pick.yaml):
`camera_translation` and `camera_rotation` place the camera optical frame in the base frame,
p_base = R(camera_rotation) @ p_camera + camera_translation, the same numbers a
`static_transform_publisher base_link camera_color_optical_frame` would be given.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mtf_grasp.perception import topics
from mtf_grasp.perception.intrinsics import CameraIntrinsics

# The simulated mount (sim/arm_scene.py): the camera 0.47 m above the table, 0.45 m in front of
# the arm base, looking straight down with image x along base x (a half turn about x).
SIM_CAMERA_TRANSLATION = (0.45, 0.0, 0.47)
SIM_CAMERA_ROTATION = (1.0, 0.0, 0.0, 0.0)


def quaternion_to_matrix(q) -> np.ndarray:
    """Unit quaternion (x, y, z, w) -> 3x3 rotation matrix."""
    x, y, z, w = (float(v) for v in q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def matrix_to_quaternion(m) -> tuple[float, float, float, float]:
    """3x3 rotation matrix -> unit quaternion (x, y, z, w) with w >= 0."""
    m = np.asarray(m, dtype=float)
    # The largest of the four squared components is computed from the trace; it is far from 0.
    squares = [1 + m[0, 0] - m[1, 1] - m[2, 2], 1 - m[0, 0] + m[1, 1] - m[2, 2],
               1 - m[0, 0] - m[1, 1] + m[2, 2], 1 + m[0, 0] + m[1, 1] + m[2, 2]]
    k = int(np.argmax(squares))
    s = 2.0 * math.sqrt(squares[k])
    if k == 0:
        q = (s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s)
    elif k == 1:
        q = ((m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s)
    elif k == 2:
        q = ((m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s)
    else:
        q = ((m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4)
    sign = -1.0 if q[3] < 0 else 1.0
    return tuple(float(sign * v) for v in q)


@dataclass(frozen=True)
class CameraExtrinsics:
    base_frame: str = field(default='base_link', metadata={'help': 'robot base frame (REP 103)'})
    camera_frame: str = field(default=topics.COLOR_FRAME, metadata={
        'help': 'camera optical frame the grasps are detected in'})
    camera_translation: tuple[float, float, float] = field(default=SIM_CAMERA_TRANSLATION, metadata={
        'help': 'camera optical frame origin in the base frame (x, y, z metres)'})
    camera_rotation: tuple[float, float, float, float] = field(default=SIM_CAMERA_ROTATION, metadata={
        'help': 'camera optical frame orientation in the base frame (quaternion x, y, z, w)'})

    def __post_init__(self):
        t, q = self.camera_translation, self.camera_rotation
        if len(t) != 3 or len(q) != 4 or not all(math.isfinite(v) for v in (*t, *q)):
            raise ValueError(f'camera_translation needs 3 and camera_rotation 4 finite numbers; got {t}, {q}')
        norm = math.sqrt(sum(v * v for v in q))
        if abs(norm - 1.0) > 1e-3:
            raise ValueError(f'camera_rotation must be a unit quaternion (x, y, z, w); got {q} (norm {norm:.4f})')

    @property
    def rotation_matrix(self) -> np.ndarray:
        return quaternion_to_matrix(self.camera_rotation)

    @property
    def matrix(self) -> np.ndarray:
        """4x4 homogeneous base <- camera transform."""
        m = np.eye(4)
        m[:3, :3] = self.rotation_matrix
        m[:3, 3] = self.camera_translation
        return m

    def point_to_base(self, points_camera) -> np.ndarray:
        """Point(s) (..., 3) in the camera optical frame -> the base frame."""
        return np.asarray(points_camera, float) @ self.rotation_matrix.T + np.asarray(self.camera_translation)

    def orientation_to_base(self, q_camera) -> tuple[float, float, float, float]:
        """An orientation (x, y, z, w) given in the camera frame -> the same one in the base frame."""
        return matrix_to_quaternion(self.rotation_matrix @ quaternion_to_matrix(q_camera))


def pixel_to_camera(*, u: float, v: float, depth_m: float, intrinsics: CameraIntrinsics) -> np.ndarray:
    """Pixel (u, v) at z-depth `depth_m` -> point in the camera optical frame (x right, y down)."""
    return intrinsics.deproject(u, v, depth_m)


def pixel_to_base(*, u: float, v: float, depth_m: float, intrinsics: CameraIntrinsics,
                  extrinsics: CameraExtrinsics) -> np.ndarray:
    """Pixel (u, v) at z-depth `depth_m` -> point in the robot base frame."""
    return extrinsics.point_to_base(pixel_to_camera(u=u, v=v, depth_m=depth_m, intrinsics=intrinsics))
