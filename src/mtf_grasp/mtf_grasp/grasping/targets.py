"""Training targets: the four maps (quality, cos 2θ, sin 2θ, width) drawn from grasp rectangles."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from mtf_grasp.grasping.rect import GraspRect

# Only the middle third of each rectangle along its opening is marked as graspable: the network
# should point at the grasp centre, not at the finger positions.
CENTRE_FRACTION = 1.0 / 3.0


def width_scale(size: int) -> float:
    """Pixels of opening per unit of the width map: openings up to half the input map to [0, 1]."""
    return size / 2.0


def encode_targets(rects: Iterable[GraspRect], size: int) -> np.ndarray:
    """4×S×S float32 maps; where rectangles overlap, the later one's angle and width win."""
    maps = np.zeros((4, size, size), np.float32)
    maps[1] = 1.0  # cos 2θ of "no grasp" is arbitrary; 1 keeps the background angle map smooth
    scale = width_scale(size)
    for r in rects:
        half_u = max(r.length * CENTRE_FRACTION / 2, 0.5)
        half_v = max(r.jaw / 2, 0.5)
        reach = math.hypot(half_u, half_v)
        x_lo, x_hi = max(int(math.floor(r.cx - reach)), 0), min(int(math.ceil(r.cx + reach)) + 1, size)
        y_lo, y_hi = max(int(math.floor(r.cy - reach)), 0), min(int(math.ceil(r.cy + reach)) + 1, size)
        if x_lo >= x_hi or y_lo >= y_hi:
            continue
        ys, xs = np.mgrid[y_lo:y_hi, x_lo:x_hi]
        dx, dy = xs - r.cx, ys - r.cy
        c, s = math.cos(r.angle), math.sin(r.angle)
        inside = (np.abs(dx * c + dy * s) <= half_u) & (np.abs(-dx * s + dy * c) <= half_v)
        window = maps[:, y_lo:y_hi, x_lo:x_hi]
        window[0][inside] = np.maximum(window[0][inside], r.quality)
        window[1][inside] = math.cos(2 * r.angle)
        window[2][inside] = math.sin(2 * r.angle)
        window[3][inside] = r.length / scale
    return maps
