"""sensor_msgs/Image <-> numpy for the encodings a RGB-D camera uses (our small cv_bridge).

Works on any message-shaped object (rclpy message, rosbags dataclass, a SimpleNamespace) with
`height`, `width`, `encoding`, `is_bigendian`, `step` and `data`, so it is testable without ROS.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtf_grasp.perception.bad_frame import BadFrame

# encoding -> (element dtype, channels)
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    'rgb8': (np.dtype(np.uint8), 3),
    'bgr8': (np.dtype(np.uint8), 3),
    'mono8': (np.dtype(np.uint8), 1),
    '16UC1': (np.dtype(np.uint16), 1),
    'mono16': (np.dtype(np.uint16), 1),
    '32FC1': (np.dtype(np.float32), 1),
}
MM_PER_M = 1000.0


@dataclass(frozen=True)
class EncodedImage:
    """The fields of a sensor_msgs/Image (without header), ready to copy into a message."""
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: bytes


def image_to_array(msg) -> np.ndarray:
    """Decode an Image into an (H, W) or (H, W, C) array in native byte order (a copy-free view
    where possible). Rows may be padded (`step` > width * pixel size); padding is skipped."""
    if msg.encoding not in ENCODINGS:
        raise BadFrame(f'unsupported image encoding {msg.encoding!r} (supported: {", ".join(ENCODINGS)})')
    dtype, channels = ENCODINGS[msg.encoding]
    dtype = dtype.newbyteorder('>' if msg.is_bigendian else '<')
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    row_bytes = width * channels * dtype.itemsize
    buffer = np.frombuffer(msg.data, dtype=np.uint8)
    if height <= 0 or width <= 0 or step < row_bytes or buffer.size < step * (height - 1) + row_bytes:
        raise BadFrame(f'{msg.encoding} image {width}x{height} with step {step} '
                       f'does not fit its {buffer.size} data bytes')
    rows = np.lib.stride_tricks.as_strided(buffer, shape=(height, row_bytes), strides=(step, 1))
    pixels = np.ascontiguousarray(rows).view(dtype).reshape(height, width, channels)
    pixels = pixels if dtype.isnative else pixels.astype(dtype.newbyteorder('='))
    return pixels[:, :, 0] if channels == 1 else pixels


def array_to_image(array: np.ndarray, encoding: str) -> EncodedImage:
    """Encode a native-order array as a dense little-endian Image payload."""
    if encoding not in ENCODINGS:
        raise BadFrame(f'unsupported image encoding {encoding!r} (supported: {", ".join(ENCODINGS)})')
    dtype, channels = ENCODINGS[encoding]
    array = np.asarray(array)
    shape_ok = array.ndim == 2 and channels == 1 or array.ndim == 3 and array.shape[2] == channels
    if not shape_ok:
        raise BadFrame(f'array of shape {array.shape} cannot be encoded as {encoding}')
    data = np.ascontiguousarray(array, dtype=dtype.newbyteorder('<'))
    height, width = array.shape[:2]
    return EncodedImage(height=height, width=width, encoding=encoding, is_bigendian=0,
                        step=width * channels * dtype.itemsize, data=data.tobytes())


def color_to_rgb(msg) -> np.ndarray:
    """A colour Image as (H, W, 3) uint8 RGB; mono8 is replicated to three channels."""
    pixels = image_to_array(msg)
    if msg.encoding == 'rgb8':
        return pixels
    if msg.encoding == 'bgr8':
        return pixels[:, :, ::-1]
    if msg.encoding == 'mono8':
        return np.repeat(pixels[:, :, None], 3, axis=2)
    raise BadFrame(f'colour image has depth encoding {msg.encoding!r}')


def depth_to_metres(msg) -> np.ndarray:
    """A depth Image as float32 metres: 16UC1/mono16 are millimetres (0 = no reading stays 0),
    32FC1 is metres already."""
    pixels = image_to_array(msg)
    if msg.encoding in ('16UC1', 'mono16'):
        return pixels.astype(np.float32) / np.float32(MM_PER_M)
    if msg.encoding == '32FC1':
        return pixels
    raise BadFrame(f'depth image has colour encoding {msg.encoding!r}')
