"""preprocess: crop, resize, normalise, and the pixel map between camera image and network input."""
import numpy as np
import pytest

from mtf_grasp.grasping import GraspRect, ModelSpec, preprocess


def frame(width=640, height=480):
    rgb = np.full((height, width, 3), 100, np.uint8)
    depth = np.full((height, width), 0.6, np.float32)
    return rgb, depth


@pytest.mark.parametrize('channels, count', [('rgbd', 4), ('depth', 1), ('rgb', 3)])
def test_channels_and_size(channels, count):
    rgb, depth = frame()
    x, _ = preprocess(rgb, depth, spec=ModelSpec(channels=channels, input_size=64))
    assert x.shape == (count, 64, 64) and x.dtype.is_floating_point


def test_centred_square_crop_maps_pixels_both_ways():
    rgb, depth = frame()
    depth[200:280, 360:440] = 0.5            # a box 10 cm above the table, right of centre
    x, t = preprocess(rgb, depth, spec=ModelSpec(channels='depth', input_size=120))
    assert (t.x0, t.y0, t.scale) == (80, 0, 0.25)
    box = GraspRect(cx=399.5, cy=239.5, angle=0.4, length=80, jaw=40)
    in_model = t.to_model(box)
    assert (in_model.cx, in_model.cy, in_model.length) == pytest.approx((79.5, 59.5, 20))
    assert t.to_source(in_model).cx == pytest.approx(box.cx)
    assert x[0, 60, 80] < x[0, 60, 20]       # the box is nearer the camera: smaller depth


def test_depth_holes_are_filled_not_zero():
    rgb, depth = frame()
    depth[100:140, 300:340] = 0.0
    depth[0:5, :] = np.nan
    x, _ = preprocess(rgb, depth, spec=ModelSpec(channels='depth', input_size=64))
    assert np.isfinite(x.numpy()).all()
    assert float(x.abs().max()) < 1e-3       # a flat table stays flat through the holes


def test_explicit_crop_and_bad_crop():
    rgb, depth = frame()
    _, t = preprocess(rgb, depth, spec=ModelSpec(input_size=64), crop=(100, 50, 320))
    assert (t.x0, t.y0, t.scale) == (100, 50, 0.2)
    with pytest.raises(ValueError, match='does not fit'):
        preprocess(rgb, depth, spec=ModelSpec(input_size=64), crop=(400, 0, 320))


def test_mismatched_rgb_and_depth_are_refused():
    rgb, _ = frame()
    _, depth = frame(320, 240)
    with pytest.raises(ValueError, match='differ'):
        preprocess(rgb, depth, spec=ModelSpec(input_size=64))


def test_depth_at_the_input_size_skips_resampling_with_the_same_result():
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.55, 0.65, (64, 64)).astype(np.float32)
    depth[10:20, 30:40], depth[50, :] = 0.0, np.nan
    doubled = np.repeat(np.repeat(depth, 2, axis=0), 2, axis=1)   # area-averages back to `depth`
    spec = ModelSpec(channels='depth', input_size=64)
    direct, _ = preprocess(None, depth, spec=spec)
    resampled, _ = preprocess(None, doubled, spec=spec)
    np.testing.assert_allclose(direct.numpy(), resampled.numpy(), atol=1e-6)
