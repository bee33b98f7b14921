"""sensor_msgs/CameraInfo fields <-> the pinhole `CameraIntrinsics` the simulator also uses."""
from __future__ import annotations

import math

from mtf_grasp.perception.bad_frame import BadFrame
from mtf_grasp.perception.intrinsics import CameraIntrinsics


def intrinsics_from_camera_info(info) -> CameraIntrinsics:
    """From a message-shaped CameraInfo (`k` row-major 3x3, `width`, `height`)."""
    k = [float(v) for v in info.k]
    if len(k) != 9 or not all(math.isfinite(v) for v in k) or k[0] <= 0 or k[4] <= 0:
        raise BadFrame(f'camera_info has no usable K matrix: {k}')
    return CameraIntrinsics(fx=k[0], fy=k[4], cx=k[2], cy=k[5], width=int(info.width), height=int(info.height))


def camera_info_fields(k: CameraIntrinsics) -> dict:
    """Values for CameraInfo's calibration fields (plumb_bob with zero distortion)."""
    return {
        'width': k.width, 'height': k.height, 'distortion_model': 'plumb_bob',
        'd': [0.0] * 5,
        'k': [k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0],
        'r': [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        'p': [k.fx, 0.0, k.cx, 0.0, 0.0, k.fy, k.cy, 0.0, 0.0, 0.0, 1.0, 0.0],
    }


def nominal_intrinsics(*, width: int, height: int, horizontal_fov_deg: float = 58.0) -> CameraIntrinsics:
    """A square-pixel camera centred on the image, for datasets that publish no calibration."""
    f = width / (2.0 * math.tan(math.radians(horizontal_fov_deg) / 2.0))
    return CameraIntrinsics(fx=f, fy=f, cx=(width - 1) / 2.0, cy=(height - 1) / 2.0, width=width, height=height)
