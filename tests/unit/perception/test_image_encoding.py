"""Image <-> numpy: round trips, row padding, big-endian data and bad frames."""
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mtf_grasp.perception import (BadFrame, array_to_image, color_to_rgb, depth_to_metres,
                                  image_to_array)


def as_msg(encoded, **override):
    return SimpleNamespace(**{**encoded.__dict__, **override})


CASES = [('rgb8', np.uint8, 3), ('bgr8', np.uint8, 3), ('mono8', np.uint8, 1),
         ('16UC1', np.uint16, 1), ('32FC1', np.float32, 1)]


@pytest.mark.parametrize('encoding, dtype, channels', CASES)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_round_trip_is_exact(encoding, dtype, channels, data):
    shape = (data.draw(st.integers(1, 7)), data.draw(st.integers(1, 9)))
    if channels == 3:
        shape += (3,)
    elements = st.floats(-1e3, 1e3, width=32) if dtype == np.float32 else None
    array = data.draw(hnp.arrays(dtype, shape, elements=elements))
    decoded = image_to_array(as_msg(array_to_image(array, encoding)))
    assert decoded.dtype == dtype
    np.testing.assert_array_equal(decoded, array)


def test_padded_rows_are_skipped():
    depth = np.arange(12, dtype=np.uint16).reshape(3, 4)
    rows = [row.tobytes() + b'\xff' * 3 for row in depth]          # step = 8 + 3 bytes of padding
    msg = SimpleNamespace(height=3, width=4, encoding='16UC1', is_bigendian=0, step=11, data=b''.join(rows))
    np.testing.assert_array_equal(image_to_array(msg), depth)


def test_big_endian_depth_is_read_in_native_order():
    depth = np.array([[1000, 2500]], dtype='>u2')
    msg = SimpleNamespace(height=1, width=2, encoding='16UC1', is_bigendian=1, step=4, data=depth.tobytes())
    np.testing.assert_allclose(depth_to_metres(msg), [[1.0, 2.5]])


def test_bgr_and_mono_become_rgb():
    rgb = np.array([[[10, 20, 30]]], dtype=np.uint8)
    bgr = as_msg(array_to_image(rgb[:, :, ::-1], 'bgr8'))
    np.testing.assert_array_equal(color_to_rgb(bgr), rgb)
    mono = as_msg(array_to_image(np.array([[7]], dtype=np.uint8), 'mono8'))
    np.testing.assert_array_equal(color_to_rgb(mono), [[[7, 7, 7]]])


def test_millimetre_depth_becomes_metres_and_holes_stay_zero():
    msg = as_msg(array_to_image(np.array([[0, 1234]], dtype=np.uint16), '16UC1'))
    np.testing.assert_allclose(depth_to_metres(msg), [[0.0, 1.234]], rtol=1e-6)


@pytest.mark.parametrize('override, message', [
    ({'encoding': 'yuv422'}, 'unsupported image encoding'),
    ({'height': 5}, 'does not fit'),
    ({'step': 2}, 'does not fit'),
])
def test_bad_frames_raise_bad_frame(override, message):
    msg = as_msg(array_to_image(np.zeros((2, 3, 3), np.uint8), 'rgb8'), **override)
    with pytest.raises(BadFrame, match=message):
        image_to_array(msg)


def test_wrong_kind_of_image_is_a_bad_frame():
    depth = as_msg(array_to_image(np.zeros((2, 2), np.float32), '32FC1'))
    with pytest.raises(BadFrame, match='depth encoding'):
        color_to_rgb(depth)
    with pytest.raises(BadFrame, match='colour encoding'):
        depth_to_metres(as_msg(array_to_image(np.zeros((2, 2, 3), np.uint8), 'rgb8')))
