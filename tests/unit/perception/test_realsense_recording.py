"""A software-device recording plays back through the RealSense pipeline losslessly, with its
intrinsics, depth aligned to colour, and ends cleanly."""
import numpy as np
import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.perception import CameraIntrinsics
from mtf_grasp.perception.realsense_recording import write_realsense_recording
from mtf_grasp.perception.realsense_source import RealSenseSource

K = CameraIntrinsics(fx=60.0, fy=61.0, cx=31.5, cy=23.5, width=64, height=48)


def test_recording_plays_back_losslessly(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for i in range(4):
        # A flat scene: rs.align re-projects every depth pixel and leaves 1-px gaps at depth
        # edges, so only a scene without edges is exactly the same after alignment.
        depth = np.full((48, 64), 600 + 7 * i, np.uint16)
        frames.append((rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), depth))
    path = tmp_path / 'rec.db3'
    assert write_realsense_recording(path, frames, intrinsics=K) == 4
    with RealSenseSource(playback_file=str(path), realtime=False) as camera:
        captures = list(camera.frames())
    assert len(captures) == 4
    for (rgb, depth), capture in zip(frames, captures):
        np.testing.assert_array_equal(capture.rgb, rgb)
        np.testing.assert_array_equal(capture.depth_mm, depth)
        assert capture.intrinsics == K
    assert [c.timestamp_ms for c in captures] == pytest.approx([1000 / 30 * n for n in range(1, 5)])


def test_non_millimetre_depth_units_are_rescaled(tmp_path):
    path = tmp_path / 'quarter_mm.db3'
    depth = np.full((48, 64), 2000, np.uint16)                     # 2000 x 0.25 mm = 500 mm
    write_realsense_recording(path, [(np.zeros((48, 64, 3), np.uint8), depth)], intrinsics=K, depth_units_m=0.00025)
    with RealSenseSource(playback_file=str(path), realtime=False) as camera:
        (capture,) = list(camera.frames())
    assert np.all(capture.depth_mm == 500)


def test_missing_playback_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match='no such file'):
        RealSenseSource(playback_file=str(tmp_path / 'none.db3'))
