"""Target maps, decoding back to rectangles, and augmentations that move image and rectangles together."""
import math

import numpy as np
import pytest

from mtf_grasp.grasping import (Augmentation, GraspRect, angle_difference, decode_grasps, encode_targets,
                                maps_to_grasps, warp_sample, width_scale)


def test_encoding_then_decoding_recovers_the_rectangle():
    gt = GraspRect(cx=40.3, cy=25.7, angle=math.radians(35), length=24, jaw=12)
    maps = encode_targets([gt], 64)
    (found,) = maps_to_grasps(maps, max_grasps=1, jaw_ratio=0.5)
    assert math.hypot(found.cx - gt.cx, found.cy - gt.cy) <= 1.0
    assert angle_difference(found.angle, gt.angle) < math.radians(1)
    assert found.length == pytest.approx(gt.length, rel=0.02)
    assert found.jaw == pytest.approx(found.length * 0.5)


def test_target_maps_mark_the_centre_third_with_angle_and_width():
    gt = GraspRect(cx=32, cy=32, angle=0.0, length=30, jaw=10)
    q, c2, s2, w = encode_targets([gt], 64)
    assert q[32, 32] == 1                                  # the centre
    assert q[32, 32 + 4] == pytest.approx(np.exp(-2 * (4 / 5) ** 2))  # inside: |u| ≤ 30/6 = 5
    assert q[32 + 4, 32] == pytest.approx(np.exp(-2 * (4 / 5) ** 2))  # inside: |v| ≤ 10/2 = 5
    assert q[32, 32 + 7] == 0 and q[32 + 7, 32] == 0      # beyond the centre third / the jaw
    assert c2[32, 32] == pytest.approx(1) and s2[32, 32] == pytest.approx(0)
    assert w[32, 32] * width_scale(64) == pytest.approx(30)


def test_decoding_ranks_separate_peaks_best_first():
    size = 64
    q = np.zeros((size, size))
    q[10, 10], q[50, 50] = 0.6, 0.9
    cos2, sin2, width = np.ones_like(q), np.zeros_like(q), np.full_like(q, 10 / width_scale(size))
    grasps = decode_grasps(q, cos2, sin2, width, max_grasps=5, smooth_sigma=0.0)
    assert [(g.cx, g.cy) for g in grasps] == [(50, 50), (10, 10)]
    assert grasps[0].quality > grasps[1].quality
    assert decode_grasps(q, cos2, sin2, width, max_grasps=5, min_quality=0.7, smooth_sigma=0.0)[0].cx == 50
    assert len(decode_grasps(q, cos2, sin2, width, max_grasps=5, min_quality=0.7, smooth_sigma=0.0)) == 1


def test_warp_moves_rectangles_with_the_image():
    size = 48
    x = np.zeros((2, size, size), np.float32)
    gt = GraspRect(cx=30, cy=12, angle=0.2, length=10, jaw=6)
    x[0, 12, 30] = 1.0                                   # mark the grasp centre in channel 0
    rng = np.random.default_rng(3)
    matrix = Augmentation(max_rotation_deg=180, min_zoom=1.0, max_zoom=1.0, max_shift=0.0).random_matrix(size, rng)
    warped, (moved,) = warp_sample(x, [gt], matrix)
    peak_y, peak_x = np.unravel_index(np.argmax(warped[0]), warped[0].shape)
    assert math.hypot(peak_x - moved.cx, peak_y - moved.cy) <= 1.0
    assert moved.length == pytest.approx(10)
    assert warped.shape == x.shape


def test_warp_drops_rectangles_that_leave_the_image():
    x = np.zeros((1, 32, 32), np.float32)
    shift_right = np.array([[1.0, 0, 20], [0, 1.0, 0]])
    _, kept = warp_sample(x, [GraspRect(cx=20, cy=5, angle=0, length=4, jaw=2),
                              GraspRect(cx=5, cy=5, angle=0, length=4, jaw=2)], shift_right)
    assert [(r.cx, r.cy) for r in kept] == [(25, 5)]


def test_fixed_jaw_size_overrides_the_ratio():
    gt = GraspRect(cx=30, cy=30, angle=0.0, length=20, jaw=6)
    (found,) = maps_to_grasps(encode_targets([gt], 64), max_grasps=1, jaw_ratio=0.5, jaw_px=7.0)
    assert found.jaw == 7.0


@pytest.mark.parametrize('shape, sigma', [((224, 224), 2.0), ((40, 40), 0.36), ((30, 50), 1.0), ((7, 9), 2.0)])
def test_reading_the_smoothed_maps_at_peaks_equals_blurring_them_whole(shape, sigma):
    from mtf_grasp.grasping.decode import _smooth, _smoothed_at

    image = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    points = [(0, 0), (shape[0] - 1, shape[1] - 1), (3, shape[1] // 2), (shape[0] // 2, 1)]
    whole = _smooth(image, sigma)
    np.testing.assert_allclose(_smoothed_at(np.stack([image, -image]), points, sigma),
                               [[whole[p] for p in points], [-whole[p] for p in points]], atol=1e-6)


def _window_centre(q, y, x, reach):
    """The plateau centre by its definition: mean position of the window pixels as high as (y, x)."""
    y0, x0 = max(y - reach, 0), max(x - reach, 0)
    rows, cols = np.nonzero(q[y0:y + reach + 1, x0:x + reach + 1] >= q[y, x] - 1e-3)
    return int(round(y0 + rows.mean())), int(round(x0 + cols.mean()))


@pytest.mark.parametrize('levels', [1, 3, 40, None])
def test_plateau_centres_from_tables_equal_the_window_scan(levels):
    """Maps with few distinct levels (1: a flat map, every pixel a peak) take the summed-area
    tables; every centre must still equal the scan of its window."""
    from mtf_grasp.grasping.decode import _plateau_centres

    rng = np.random.default_rng(levels or 0)
    q = rng.random((60, 75)).astype(np.float32)
    if levels is not None:
        q = (np.floor(q * levels) / levels).astype(np.float32)
    ys, xs = np.nonzero(q >= 0)
    order = np.argsort(-q[ys, xs], kind='stable')
    ys, xs = ys[order][:700], xs[order][:700]
    assert list(_plateau_centres(q, ys, xs, 7)) == [_window_centre(q, int(y), int(x), 7) for y, x in zip(ys, xs)]


def test_a_flat_quality_map_gives_grasps_spread_over_it():
    """An untrained or bfloat16 model can output one value everywhere: every pixel is then a peak."""
    size = 96
    q = np.full((size, size), 0.5, np.float32)
    cos2, sin2, width = np.ones_like(q), np.zeros_like(q), np.full_like(q, 10 / width_scale(size))
    grasps = decode_grasps(q, cos2, sin2, width, max_grasps=5)
    distance = size // 12
    assert len(grasps) == 5 and all(g.quality == 0.5 for g in grasps)
    assert all(math.hypot(a.cx - b.cx, a.cy - b.cy) >= distance for i, a in enumerate(grasps) for b in grasps[:i])
    assert (grasps[0].cx, grasps[0].cy) == (distance // 2, distance // 2)   # the first window's middle
