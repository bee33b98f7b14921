"""Photometric augmentation (colour, depth noise and scale) and the median depth reference."""
from __future__ import annotations

import numpy as np
import pytest

from mtf_grasp.grasping import Augmentation, ModelSpec, preprocess


def _input(channels='rgbd', size=16):
    rng = np.random.default_rng(0)
    return rng.uniform(-0.5, 0.5, size=(4 if channels == 'rgbd' else 1, size, size)).astype(np.float32)


def test_photometric_parts_off_leave_the_input_and_the_random_stream_alone():
    x, rng = _input(), np.random.default_rng(3)
    assert Augmentation().photometric(x, 'rgbd', rng) is x
    assert rng.uniform() == np.random.default_rng(3).uniform()


def test_colour_jitter_changes_only_the_colour_channels_and_depth_noise_only_depth():
    x = _input()
    colour = Augmentation(colour_gain=0.3).photometric(x, 'rgbd', np.random.default_rng(1))
    np.testing.assert_array_equal(colour[0], x[0])
    assert not np.allclose(colour[1:], x[1:])
    noisy = Augmentation(depth_noise_m=0.003, depth_scale=0.3).photometric(x, 'rgbd', np.random.default_rng(1))
    np.testing.assert_array_equal(noisy[1:], x[1:])
    assert not np.allclose(noisy[0], x[0]) and np.abs(noisy[0]).max() <= 1.0
    depth_only = Augmentation(colour_gain=0.3, depth_noise_m=0.003).photometric(_input('depth'), 'depth',
                                                                                np.random.default_rng(1))
    assert depth_only.shape == (1, 16, 16)


@pytest.mark.parametrize('kwargs', [dict(min_zoom=1.2, max_zoom=1.0), dict(colour_gain=1.5), dict(depth_noise_m=-1)])
def test_bad_augmentation_is_refused(kwargs):
    with pytest.raises(ValueError):
        Augmentation(**kwargs)


def _board_frame(distance):
    """A board filling 70 % of the view with a 4 cm box on it, and the floor 10 cm lower beyond its edge."""
    depth = np.full((64, 64), distance, np.float32)
    depth[:, 45:] = distance + 0.10
    depth[20:30, 20:30] = distance - 0.04
    return np.full((64, 64, 3), 100, np.uint8), depth


def test_median_reference_puts_the_board_at_zero_at_any_camera_distance():
    spec = ModelSpec(width=8, input_size=64, depth_ref='median')
    near, _ = preprocess(*_board_frame(0.5), spec=spec)
    far, _ = preprocess(*_board_frame(1.1), spec=spec)
    assert abs(float(near[0, 40, 10])) < 1e-4                       # the board
    assert float(near[0, 25, 25]) == pytest.approx(-0.4, abs=1e-3)  # the box: 4 cm above it
    np.testing.assert_allclose(near[0].numpy(), far[0].numpy(), atol=1e-4)
    mean_ref, _ = preprocess(*_board_frame(0.5), spec=ModelSpec(width=8, input_size=64))
    assert float(mean_ref[0, 40, 10]) < -0.2                         # the floor drags the mean down


def test_plane_reference_flattens_a_tilted_and_curved_support():
    v, u = np.mgrid[0:64, 0:64]
    for distance in (0.6, 1.1):
        # tilted (5 mm per pixel row) and curved like distance along the ray; a 4 cm box on it
        board = distance + 0.005 * (v - 32) + 0.00002 * ((u - 32) ** 2 + (v - 32) ** 2)
        depth = board.astype(np.float32)
        depth[20:30, 20:30] -= 0.04
        x, _ = preprocess(np.full((64, 64, 3), 100, np.uint8), depth,
                          spec=ModelSpec(width=8, input_size=64, depth_ref='plane'))
        assert np.abs(x[0].numpy()[40:, :]).max() < 1e-3                 # the support: flat at 0
        assert float(x[0, 25, 25]) == pytest.approx(-0.4, abs=1e-3)      # the box: 4 cm above it
