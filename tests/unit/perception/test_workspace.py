"""The workspace: a support surface fitted from the frame, a height band above it, and no grasp outside."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mtf_grasp.grasping import GraspRect, ModelSpec, build_model, decode_grasps
from mtf_grasp.perception import (BadFrame, DetectorSettings, GraspDetector, WorkspaceSettings, nominal_intrinsics,
                                  support_depth, workspace_mask)
from mtf_grasp.perception.workspace import grasps_inside

W, H = 160, 120
K = nominal_intrinsics(width=W, height=H)
BOARD_M, FLOOR_M, OBJECT_TOP_M = 0.70, 0.78, 0.66    # board 8 cm above the floor, object 4 cm tall
EDGE_X = 110                                          # board edge: columns >= 110 see the floor
BAND = WorkspaceSettings(min_height_m=0.01, max_height_m=0.2)


def board_scene():
    """Top-down: a board on the left (with a 20x20 px box on it), its edge, the floor beyond."""
    depth = np.full((H, W), BOARD_M, np.float32)
    depth[:, EDGE_X:] = FLOOR_M
    depth[50:70, 40:60] = OBJECT_TOP_M
    return depth


def grasp_at(x, y):
    return GraspRect(cx=x, cy=y, angle=0.0, length=20.0, jaw=10.0)


def test_support_is_the_board_and_heights_are_metres_above_it():
    support = support_depth(board_scene(), BAND)
    np.testing.assert_allclose(support, BOARD_M, atol=1e-3)        # not pulled towards the floor or the box
    mask = workspace_mask(board_scene(), BAND)
    assert mask[55:65, 45:55].all() and not mask[:, EDGE_X:].any() and not mask[10:40, 10:100].any()


def test_grasp_on_the_depth_step_is_rejected_and_one_on_the_object_kept():
    mask = workspace_mask(board_scene(), BAND)
    on_edge, on_object = grasp_at(EDGE_X, 60), grasp_at(50, 60)
    assert grasps_inside([on_edge, on_object], mask) == [on_object]
    assert grasps_inside([on_edge, on_object], workspace_mask(board_scene(), WorkspaceSettings())) \
        == [on_edge, on_object]                                   # no workspace: both


@pytest.mark.parametrize('ray_distance', [False, True])
def test_tilted_support_is_fitted_so_a_sloping_table_is_not_an_object(ray_distance):
    # a table tilted 25° about the image x axis (depth changes by ~10 cm across the frame), in z-depth
    # or, as Cornell's TIFFs hold it, as the distance along each ray; a 4 cm box on it
    v, u = np.mgrid[0:H, 0:W]
    ray_x, ray_y = (u - K.cx) / K.fx, (v - K.cy) / K.fy
    tilt = math.radians(25)
    depth = (0.7 / (math.cos(tilt) - ray_y * math.sin(tilt))).astype(np.float32)
    if ray_distance:
        depth = (depth * np.sqrt(1 + ray_x ** 2 + ray_y ** 2)).astype(np.float32)
    assert float(depth.max() - depth.min()) > 0.05
    depth[50:70, 40:60] -= 0.04
    mask = workspace_mask(depth, BAND)
    assert mask[54:66, 44:56].all()
    assert mask.sum() <= 20 * 20


def test_region_of_interest_limits_grasps_and_must_fit_the_frame():
    roi = WorkspaceSettings(roi=(0, 0, 60, 120))
    assert grasps_inside([grasp_at(50, 60), grasp_at(80, 60)], workspace_mask(board_scene(), roi)) \
        == [grasp_at(50, 60)]
    with pytest.raises(BadFrame, match='does not fit'):
        workspace_mask(board_scene(), WorkspaceSettings(roi=(0, 0, 200, 120)))


@pytest.mark.parametrize('kwargs', [dict(roi=(10, 0, 5, 20)), dict(min_height_m=0.3, max_height_m=0.2),
                                    dict(max_height_m=-1.0), dict(edge_margin=0.5), dict(edge_margin=-0.1)])
def test_bad_workspace_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        WorkspaceSettings(**kwargs)


def test_decoder_takes_the_best_peak_inside_the_mask():
    size = 32
    quality = np.zeros((size, size), np.float32)
    quality[8, 8], quality[24, 24] = 1.0, 0.6
    zeros = np.zeros_like(quality)
    assert (decode_grasps(quality, zeros, zeros, zeros, max_grasps=1)[0].cx, ) == (8,)
    mask = np.zeros((size, size), bool)
    mask[16:, 16:] = True
    best = decode_grasps(quality, zeros, zeros, zeros, max_grasps=3, mask=mask)
    assert [(g.cx, g.cy) for g in best] == [(24, 24)]


def test_detector_reports_no_grasp_outside_the_workspace():
    torch.manual_seed(0)
    spec = ModelSpec(width=8, input_size=32)
    model = build_model(spec)
    rgb = np.full((H, W, 3), 128, np.uint8)
    settings = DetectorSettings(max_grasps=20, workspace=BAND)
    mask = workspace_mask(board_scene(), BAND)
    grasps = GraspDetector(model, version=0, settings=settings).detect(rgb, board_scene()).grasps
    assert all(mask[int(round(g.cy)), int(round(g.cx))] for g in grasps)
    free = GraspDetector(model, version=0, settings=DetectorSettings(max_grasps=20)).detect(rgb, board_scene()).grasps
    assert len(free) > len(grasps)


def test_edge_margin_keeps_grasp_centres_off_the_edges_of_the_crop():
    torch.manual_seed(0)
    model = build_model(ModelSpec(width=8, input_size=32))
    rgb = np.full((H, W, 3), 128, np.uint8)

    def grasps(margin):
        settings = DetectorSettings(max_grasps=20, workspace=WorkspaceSettings(edge_margin=margin))
        return GraspDetector(model, version=0, settings=settings).detect(rgb, board_scene()).grasps

    # The crop is the centred 120 px square (x from 20); a margin of 0.25 is 8 of 32 model pixels, 30
    # source pixels: centres in x 50-110, y 30-90 (2 px for the mapping's rounding).
    def near_an_edge(g):
        return not (48 <= g.cx <= 112 and 28 <= g.cy <= 92)
    assert any(near_an_edge(g) for g in grasps(0.0))
    kept = grasps(0.25)
    assert kept and not any(near_an_edge(g) for g in kept)
