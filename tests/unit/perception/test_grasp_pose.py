"""Pixel grasp -> camera-frame pose, by hand-computed pinhole geometry."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from mtf_grasp.perception import (BadFrame, camera_info_fields, centre_depth, grasp_pose,
                                  intrinsics_from_camera_info, nominal_intrinsics)
from mtf_grasp.perception import CameraIntrinsics

K = CameraIntrinsics(fx=500.0, fy=400.0, cx=320.0, cy=240.0, width=640, height=480)


def test_centre_pixel_is_on_the_optical_axis():
    pose = grasp_pose(x=320, y=240, angle=0.0, length_px=50, depth_m=np.full((480, 640), 0.8, np.float32),
                      intrinsics=K)
    assert pose.position == pytest.approx((0.0, 0.0, 0.8))
    assert pose.orientation == pytest.approx((0, 0, 0, 1))
    assert pose.width_m == pytest.approx(50 * 0.8 / 500)


def test_off_axis_pixel_and_vertical_grasp():
    depth = np.full((480, 640), 0.5, np.float32)
    pose = grasp_pose(x=420, y=140, angle=math.pi / 2, length_px=40, depth_m=depth, intrinsics=K)
    assert pose.position == pytest.approx((100 * 0.5 / 500, -100 * 0.5 / 400, 0.5))
    assert pose.width_m == pytest.approx(40 * 0.5 / 400)
    # The closing axis (gripper x) in the optical frame points down the image, like the rectangle.
    x, y, z, w = pose.orientation
    closing = (1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y))
    assert closing == pytest.approx((0.0, 1.0, 0.0), abs=1e-9)


def test_depth_uses_the_median_of_valid_neighbours():
    depth = np.zeros((10, 10), np.float32)
    depth[4:7, 4:7] = [[np.nan, 1.0, 2.0], [0.0, 3.0, np.inf], [4.0, 5.0, 6.0]]
    assert centre_depth(depth, x=5, y=5, window=3) == pytest.approx(3.5)
    assert centre_depth(np.full((4, 4), np.nan), x=1, y=1) is None
    assert grasp_pose(x=1, y=1, angle=0, length_px=5, depth_m=np.zeros((4, 4)), intrinsics=K) is None


def test_camera_info_round_trip_and_bad_k():
    info = SimpleNamespace(**camera_info_fields(K))
    assert intrinsics_from_camera_info(info) == K
    with pytest.raises(BadFrame, match='K matrix'):
        intrinsics_from_camera_info(SimpleNamespace(k=[0.0] * 9, width=1, height=1))


def test_nominal_intrinsics_have_the_requested_field_of_view():
    k = nominal_intrinsics(width=640, height=480, horizontal_fov_deg=60)
    assert 2 * math.degrees(math.atan(320 / k.fx)) == pytest.approx(60)
