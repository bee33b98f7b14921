"""Write RGB-D frames as a RealSense recording (.db3) through a software device: no camera needed.

pyrealsense2 records what a `software_device` is fed, losslessly and with its intrinsics, and plays
it back through the same pipeline a live camera uses; tests and demos use this to exercise the
camera node. The first frame set of a recording is not played back by librealsense 2.59, so
callers that need N frames write N + 1.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

import numpy as np

from mtf_grasp.perception.intrinsics import CameraIntrinsics

FRAME_MS = 1000.0 / 30


def _rs_intrinsics(rs, k: CameraIntrinsics):
    out = rs.intrinsics()
    out.width, out.height, out.fx, out.fy, out.ppx, out.ppy = k.width, k.height, k.fx, k.fy, k.cx, k.cy
    out.model, out.coeffs = rs.distortion.none, [0.0] * 5
    return out


def _stream(rs, *, kind, fmt, bpp: int, uid: int, k: CameraIntrinsics, fps: int):
    stream = rs.video_stream()
    stream.type, stream.index, stream.uid, stream.fps = kind, 0, uid, fps
    stream.width, stream.height, stream.bpp, stream.fmt = k.width, k.height, bpp, fmt
    stream.intrinsics = _rs_intrinsics(rs, k)
    return stream


def write_realsense_recording(path: str | Path, frames: Iterable[tuple[np.ndarray, np.ndarray]], *,
                              intrinsics: CameraIntrinsics, fps: int = 30, depth_units_m: float = 0.001) -> int:
    """Record (rgb uint8 HxWx3, depth uint16 HxW in `depth_units_m`) pairs, already aligned to colour
    (both streams share `intrinsics`). Returns the number of frame pairs written."""
    import pyrealsense2 as rs

    device = rs.software_device()
    depth_sensor, color_sensor = device.add_sensor('Depth'), device.add_sensor('Color')
    depth_profile = depth_sensor.add_video_stream(
        _stream(rs, kind=rs.stream.depth, fmt=rs.format.z16, bpp=2, uid=0, k=intrinsics, fps=fps))
    color_profile = color_sensor.add_video_stream(
        _stream(rs, kind=rs.stream.color, fmt=rs.format.rgb8, bpp=3, uid=1, k=intrinsics, fps=fps))
    identity = rs.extrinsics()
    identity.rotation, identity.translation = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0]
    depth_profile.register_extrinsics_to(color_profile, identity)   # depth is aligned to colour already
    depth_sensor.add_read_only_option(rs.option.depth_units, depth_units_m)
    device.create_matcher(rs.matchers.default)
    recorder = rs.recorder(str(path), device)
    depth_sensor.open(depth_profile)
    color_sensor.open(color_profile)
    queue = rs.frame_queue(100, keep_frames=True)
    depth_sensor.start(queue)
    color_sensor.start(queue)
    time.sleep(0.1)   # frames fed before the recorder has hooked the started sensors are lost
    count = 0
    for count, (rgb, depth) in enumerate(frames, start=1):
        for sensor, profile, pixels, bpp in ((depth_sensor, depth_profile, depth, 2),
                                             (color_sensor, color_profile, rgb, 3)):
            frame = rs.software_video_frame()
            frame.pixels = np.ascontiguousarray(pixels)
            frame.stride, frame.bpp = intrinsics.width * bpp, bpp
            frame.timestamp, frame.frame_number = count * 1000.0 / fps, count
            frame.domain = rs.timestamp_domain.hardware_clock
            frame.profile = profile.as_video_stream_profile()
            if sensor is depth_sensor:
                frame.depth_units = depth_units_m
            sensor.on_video_frame(frame)
    time.sleep(0.2)   # let the recorder drain its queue before the sensors close
    for sensor in (depth_sensor, color_sensor):
        sensor.stop()
        sensor.close()
    del recorder      # the file is finalised when the recorder is released
    return count
