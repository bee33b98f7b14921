"""Grasp rectangles, polygon IoU and the rectangle metric, against hand-computed cases."""
import math

import numpy as np
import pytest

from mtf_grasp.grasping import GraspRect, angle_difference, grasp_success, normalise_angle, rect_iou


def square(cx=0.0, cy=0.0, angle=0.0, side=10.0):
    return GraspRect(cx=cx, cy=cy, angle=angle, length=side, jaw=side)


def test_identical_rectangle_succeeds():
    gt = GraspRect(cx=50, cy=40, angle=0.3, length=30, jaw=12)
    assert rect_iou(gt, gt) == pytest.approx(1.0)
    assert grasp_success([gt], [gt])


def test_31_degrees_off_fails_and_29_succeeds():
    gt = GraspRect(cx=50, cy=40, angle=0.0, length=30, jaw=12)
    assert not grasp_success([GraspRect(cx=50, cy=40, angle=math.radians(31), length=30, jaw=12)], [gt])
    assert grasp_success([GraspRect(cx=50, cy=40, angle=math.radians(29), length=30, jaw=12)], [gt])


def test_iou_0_2_fails_and_0_3_succeeds():
    # Two 10x10 squares shifted by d along x overlap (10 - d)·10; IoU = overlap / (200 - overlap).
    gt = square()
    # overlap = IoU·200 / (1 + IoU), so d = 10 − overlap / 10: 20/3 for IoU 0.2, 10 − 60/13 for 0.3.
    shift_for = {0.2: 20 / 3, 0.3: 10 - 60 / 13}
    for iou, d in shift_for.items():
        assert rect_iou(square(cx=d), gt) == pytest.approx(iou)
    assert not grasp_success([square(cx=shift_for[0.2])], [gt])
    assert grasp_success([square(cx=shift_for[0.3])], [gt])


def test_iou_of_square_and_its_45_degree_turn_is_the_octagon():
    # Side-2 squares about one centre, one turned 45°: the overlap is a regular octagon of area 8(√2 − 1).
    a, b = square(side=2), square(side=2, angle=math.pi / 4)
    overlap = 8 * (math.sqrt(2) - 1)
    assert rect_iou(a, b) == pytest.approx(overlap / (8 - overlap))


def test_disjoint_rectangles_have_zero_iou():
    assert rect_iou(square(), square(cx=30)) == 0.0


def test_top_k_uses_only_the_first_k_predictions():
    gt = [square(cx=100, cy=100)]
    preds = [square(cx=0, cy=0), square(cx=100, cy=100)]
    assert not grasp_success(preds, gt, top_k=1)
    assert grasp_success(preds, gt, top_k=2)


def test_angles_wrap_at_90_degrees():
    gt = GraspRect(cx=0, cy=0, angle=math.radians(89), length=20, jaw=10)
    pred = GraspRect(cx=0, cy=0, angle=math.radians(-89), length=20, jaw=10)
    assert angle_difference(gt.angle, pred.angle) == pytest.approx(math.radians(2))
    assert grasp_success([pred], [gt])


def test_angle_is_normalised_into_half_open_interval():
    assert normalise_angle(-math.pi / 2) == pytest.approx(math.pi / 2)
    assert normalise_angle(math.pi / 2) == pytest.approx(math.pi / 2)
    assert normalise_angle(math.radians(100)) == pytest.approx(math.radians(-80))
    assert GraspRect(cx=0, cy=0, angle=math.pi, length=1, jaw=1).angle == pytest.approx(0.0)


def test_cornell_corners_give_centre_angle_opening_and_jaw():
    # Opening edge p0→p1 goes 30 px right and 40 px down (length 50); jaw edge p1→p2 is 10 px long.
    pts = [(100, 100), (130, 140), (122, 146), (92, 106)]
    r = GraspRect.from_corners(pts)
    assert (r.cx, r.cy) == pytest.approx((111, 123))
    assert r.length == pytest.approx(50)
    assert r.jaw == pytest.approx(10)
    assert r.angle == pytest.approx(math.atan2(40, 30))
    np.testing.assert_allclose(r.corners(), pts, atol=1e-9)


def test_jacquard_line_uses_image_axes_in_degrees():
    r = GraspRect.from_jacquard(10, 20, 90.0, 40, 8)
    assert r.angle == pytest.approx(math.pi / 2)
    # The opening axis is vertical in the image: the corners span 40 px in y and 8 px in x.
    c = r.corners()
    assert np.ptp(c[:, 1]) == pytest.approx(40)
    assert np.ptp(c[:, 0]) == pytest.approx(8)
    assert r.to_jacquard() == pytest.approx((10, 20, 90.0, 40, 8))


def test_transformed_turns_centre_and_angle_together():
    r = GraspRect(cx=10, cy=0, angle=0.0, length=4, jaw=2)
    quarter = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])  # x → y: a quarter turn in image axes
    moved = r.transformed(quarter)
    assert (moved.cx, moved.cy) == pytest.approx((0, 10))
    assert moved.angle == pytest.approx(math.pi / 2)
    assert r.scaled(0.5).length == pytest.approx(2)
