"""RGB-D frames from a RealSense: a live camera or a recording, depth aligned to colour."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from mtf_grasp.errors import InputError
from mtf_grasp.perception.intrinsics import CameraIntrinsics

MM_PER_M = 1000.0


@dataclass(frozen=True)
class RgbdCapture:
    rgb: np.ndarray             # HxWx3 uint8
    depth_mm: np.ndarray        # HxW uint16 millimetres aligned to colour, 0 = no reading
    intrinsics: CameraIntrinsics
    timestamp_ms: float         # the camera's own clock


class RealSenseSource:
    """`with RealSenseSource(...) as cam: for capture in cam.frames(): ...`; a recording ends the
    iteration at its end, a live camera runs until the caller stops. A recording played in real
    time skips frames the consumer is too slow for, like a live camera; `realtime=False` plays
    every frame."""

    def __init__(self, *, playback_file: str = '', serial_no: str = '', width: int = 640, height: int = 480,
                 fps: int = 30, realtime: bool = True, timeout_ms: int = 2000):
        import pyrealsense2 as rs

        self._rs = rs
        self._timeout_ms = timeout_ms
        self._config = rs.config()
        self._playback = bool(playback_file)
        if playback_file:
            if not Path(playback_file).is_file():
                raise InputError(f'parameter playback_file: {playback_file}: no such file')
            self._config.enable_device_from_file(playback_file, repeat_playback=False)
        else:
            if serial_no:
                self._config.enable_device(serial_no)
            self._config.enable_stream(rs.stream.color, width, height, rs.format.rgb8, fps)
            self._config.enable_stream(rs.stream.depth, width, height, rs.format.z16, fps)
        self._realtime = realtime
        self._pipeline = rs.pipeline()
        self._align = rs.align(rs.stream.color)

    def __enter__(self) -> 'RealSenseSource':
        rs = self._rs
        try:
            if self._playback:
                # Pace is set on the resolved device before streaming starts; set after `start`,
                # the first frames race past it and are lost.
                resolved = self._config.resolve(rs.pipeline_wrapper(self._pipeline))
                resolved.get_device().as_playback().set_real_time(self._realtime)
            profile = self._pipeline.start(self._config)
        except RuntimeError as exc:
            raise InputError(f'RealSense: cannot start ({exc})') from None
        self._depth_scale = profile.get_device().first_depth_sensor().get_depth_scale()
        if _registered(profile.get_stream(rs.stream.depth), profile.get_stream(rs.stream.color)):
            # rs.align re-projects every pixel and leaves 1-px gaps even between identical
            # cameras; depth that is registered to colour already is passed through unchanged.
            self._align = None
        return self

    def __exit__(self, *exc) -> None:
        self._pipeline.stop()

    def frames(self) -> Iterator[RgbdCapture]:
        while True:
            ok, frames = self._pipeline.try_wait_for_frames(self._timeout_ms)
            if not ok:
                if self._playback:
                    return
                raise RuntimeError(f'RealSense: no frames for {self._timeout_ms} ms')
            aligned = frames if self._align is None else self._align.process(frames).as_frameset()
            color, depth = aligned.get_color_frame(), aligned.get_depth_frame()
            if not color or not depth:
                continue
            yield RgbdCapture(rgb=np.asanyarray(color.get_data()).copy(),
                              depth_mm=self._millimetres(np.asanyarray(depth.get_data())),
                              intrinsics=self._intrinsics(color), timestamp_ms=aligned.get_timestamp())

    def _millimetres(self, raw: np.ndarray) -> np.ndarray:
        # D400 cameras count in 1 mm units by default; others (e.g. L515, 0.25 mm) are rescaled.
        if abs(self._depth_scale - 1.0 / MM_PER_M) < 1e-9:
            return raw.copy()
        return np.clip(np.round(raw * (self._depth_scale * MM_PER_M)), 0, 65535).astype(np.uint16)

    @staticmethod
    def _intrinsics(color_frame) -> CameraIntrinsics:
        k = color_frame.profile.as_video_stream_profile().intrinsics
        return CameraIntrinsics(fx=k.fx, fy=k.fy, cx=k.ppx, cy=k.ppy, width=k.width, height=k.height)


def _registered(depth_profile, color_profile) -> bool:
    """Depth and colour share intrinsics and the depth->colour transform is the identity."""
    d, c = (p.as_video_stream_profile().intrinsics for p in (depth_profile, color_profile))
    same = (d.width, d.height, d.fx, d.fy, d.ppx, d.ppy) == (c.width, c.height, c.fx, c.fy, c.ppx, c.ppy)
    extrinsics = depth_profile.get_extrinsics_to(color_profile)
    return same and np.allclose(extrinsics.rotation, np.eye(3).ravel()) and np.allclose(extrinsics.translation, 0)
