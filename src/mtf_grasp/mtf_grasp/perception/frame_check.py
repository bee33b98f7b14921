"""Checks that make a decoded RGB-D frame safe to run: sizes agree, depth is mostly usable."""
from __future__ import annotations

import numpy as np

from mtf_grasp.perception.bad_frame import BadFrame


def check_rgbd(rgb: np.ndarray, depth_m: np.ndarray, *, info_size: tuple[int, int],
               max_invalid_depth: float) -> None:
    """Raise BadFrame unless colour, depth and camera_info (width, height) agree and at most
    `max_invalid_depth` of the depth pixels are holes (NaN, inf or <= 0)."""
    color_size = (rgb.shape[1], rgb.shape[0])
    depth_size = (depth_m.shape[1], depth_m.shape[0])
    if color_size != depth_size or color_size != tuple(info_size):
        raise BadFrame(f'sizes differ: colour {color_size[0]}x{color_size[1]}, depth {depth_size[0]}x'
                       f'{depth_size[1]}, camera_info {info_size[0]}x{info_size[1]}')
    invalid = 1.0 - np.count_nonzero(np.isfinite(depth_m) & (depth_m > 0)) / depth_m.size
    if invalid > max_invalid_depth:
        raise BadFrame(f'{invalid:.0%} of the depth image is NaN or empty (limit {max_invalid_depth:.0%})')
