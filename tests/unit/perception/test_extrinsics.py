"""The transform chain pixel + depth -> camera optical frame -> base frame, on hand-computed numbers."""
import math

import numpy as np
import pytest

from mtf_grasp.configfile import from_mapping
from mtf_grasp.errors import InputError
from mtf_grasp.perception.extrinsics import (CameraExtrinsics, matrix_to_quaternion, pixel_to_base,
                                             pixel_to_camera, quaternion_to_matrix)
from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.perception.pick_pose import PickPose, fold_yaw, pick_from_grasp

K = CameraIntrinsics(fx=500.0, fy=500.0, cx=320.0, cy=240.0, width=640, height=480)
HALF = math.sqrt(0.5)
DOWN = CameraExtrinsics(camera_translation=(0.45, 0.0, 0.47), camera_rotation=(1.0, 0.0, 0.0, 0.0))


def test_pixel_to_camera_by_hand():
    # (420 - 320) * 0.5 / 500 = 0.1; (140 - 240) * 0.5 / 500 = -0.1
    assert pixel_to_camera(u=420, v=140, depth_m=0.5, intrinsics=K) == pytest.approx([0.1, -0.1, 0.5])


@pytest.mark.parametrize('rotation, translation, expected', [
    # half turn about x (camera looking down, image x along base x): (x, y, z) -> (x, -y, -z)
    ((1.0, 0.0, 0.0, 0.0), (0.45, 0.0, 0.47), (0.55, 0.1, -0.03)),
    # quarter turn about z: (x, y, z) -> (-y, x, z)
    ((0.0, 0.0, HALF, HALF), (1.0, 2.0, 3.0), (1.1, 2.1, 3.5)),
    # quarter turn about z after a half turn about x, q = (√½, √½, 0, 0): (x, y, z) -> (y, x, -z)
    ((HALF, HALF, 0.0, 0.0), (0.45, 0.0, 0.47), (0.35, 0.1, -0.03)),
])
def test_pixel_to_base_by_hand(rotation, translation, expected):
    ext = CameraExtrinsics(camera_translation=translation, camera_rotation=rotation)
    assert pixel_to_base(u=420, v=140, depth_m=0.5, intrinsics=K, extrinsics=ext) == pytest.approx(expected)
    assert ext.matrix @ np.array([0.1, -0.1, 0.5, 1.0]) == pytest.approx([*expected, 1.0])


def test_quaternion_matrix_round_trip():
    rng = np.random.default_rng(0)
    for q in rng.normal(size=(50, 4)):
        q = q / np.linalg.norm(q) * (1 if q[3] >= 0 else -1)
        m = quaternion_to_matrix(q)
        assert m @ m.T == pytest.approx(np.eye(3), abs=1e-12)
        assert matrix_to_quaternion(m) == pytest.approx(q, abs=1e-12)


def test_orientation_to_base_turns_the_closing_axis():
    # Grasp turned 30° about the optical axis; camera looking down: closing axis (cos30, -sin30, 0).
    q_cam = (0.0, 0.0, math.sin(math.radians(15)), math.cos(math.radians(15)))
    m = quaternion_to_matrix(DOWN.orientation_to_base(q_cam))
    assert m[:, 0] == pytest.approx([math.cos(math.radians(30)), -0.5, 0.0])
    assert m[:, 2] == pytest.approx([0.0, 0.0, -1.0])          # approach = optical axis = down


def test_pick_from_grasp_by_hand():
    q_cam = (0.0, 0.0, math.sin(math.radians(15)), math.cos(math.radians(15)))
    # pixel (420, 140) at 0.4 m -> camera (0.08, -0.08, 0.4) -> base (0.53, 0.08, 0.07); 2 cm deeper
    pick = pick_from_grasp(position_camera=pixel_to_camera(u=420, v=140, depth_m=0.4, intrinsics=K),
                           orientation_camera=q_cam, width_m=0.05, extrinsics=DOWN)
    assert pick.position == pytest.approx((0.53, 0.08, 0.05))
    assert pick.yaw == pytest.approx(math.radians(-30)) and pick.width_m == pytest.approx(0.05)
    # Tool frame: x along the closing axis, z down.
    assert pick.rotation_matrix[:, 0] == pytest.approx([math.cos(math.radians(30)), -0.5, 0.0])
    assert quaternion_to_matrix(pick.orientation) == pytest.approx(pick.rotation_matrix)
    # A surface 1 cm above the table: the fingertips stop 3 mm above it, not 1 cm below.
    low = pick_from_grasp(position_camera=(0.0, 0.0, 0.46), orientation_camera=q_cam, width_m=0.05,
                          extrinsics=DOWN)
    assert low.position[2] == pytest.approx(0.003)
    assert pick_from_grasp(position_camera=(0.0, 0.0, 0.4), orientation_camera=q_cam, width_m=0.0,
                           extrinsics=DOWN) is None


def test_fold_yaw_and_raise():
    assert fold_yaw(math.radians(100)) == pytest.approx(math.radians(-80))
    assert fold_yaw(-math.pi / 2) == pytest.approx(math.pi / 2)
    assert fold_yaw(math.pi / 2) == pytest.approx(math.pi / 2)
    assert PickPose((0.1, 0.2, 0.3), 0.5, 0.04).raised(0.1).position == pytest.approx((0.1, 0.2, 0.4))


def test_bad_extrinsics_name_the_field():
    with pytest.raises(InputError, match='camera_rotation must be a unit quaternion'):
        from_mapping(CameraExtrinsics, {'camera_rotation': [0, 0, 0, 2]}, 'config/pick.yaml.extrinsics')
    with pytest.raises(InputError, match=r'config/pick.yaml.extrinsics.camera_translation\[1\]'):
        from_mapping(CameraExtrinsics, {'camera_translation': [0, 'a', 0]}, 'config/pick.yaml.extrinsics')
