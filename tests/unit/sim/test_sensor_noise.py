"""RealSense-like noise: bounded error, 1 mm steps, holes at depth steps, reproducible."""
import numpy as np

from mtf_grasp.sim.sensor_noise import noisy_depth, noisy_rgb


def _step_scene():
    depth = np.full((96, 128), 0.5, dtype=np.float32)
    depth[30:60, 40:80] = 0.45       # a 5 cm tall object
    return depth


def test_depth_noise_is_small_quantised_and_has_holes_at_steps():
    depth = _step_scene()
    noisy = noisy_depth(depth, np.random.default_rng(0))
    valid = noisy > 0
    assert 0.0 < 1 - valid.mean() < 0.2
    error = np.abs(noisy[valid] - depth[valid])
    assert error.max() < 0.015 and 0.0003 < error.mean() < 0.004
    np.testing.assert_allclose(noisy[valid] * 1000, np.round(noisy[valid] * 1000), atol=1e-3)
    assert not valid[30:60, 80].any()   # just past the object's right edge (towards the background)


def test_noise_repeats_with_the_same_generator():
    depth = _step_scene()
    rgb = np.full((96, 128, 3), 120, np.uint8)
    a = noisy_depth(depth, np.random.default_rng(1)), noisy_rgb(rgb, np.random.default_rng(1))
    b = noisy_depth(depth, np.random.default_rng(1)), noisy_rgb(rgb, np.random.default_rng(1))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], noisy_depth(depth, np.random.default_rng(2)))
