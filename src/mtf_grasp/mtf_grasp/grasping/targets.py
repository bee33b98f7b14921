"""Training targets: the four maps (quality, cos 2θ, sin 2θ, width) drawn from grasp rectangles."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from mtf_grasp.grasping.rect import GraspRect

# Only the middle third of each rectangle along its opening is marked as graspable: the network
# should point at the grasp centre, not at the finger positions. Inside it, quality falls off from
# the centre (to e^-2 ≈ 0.14 at the edges), so the quality peak lands on the grasp centre.
CENTRE_FRACTION = 1.0 / 3.0
FALLOFF = 2.0


def width_scale(size: int) -> float:
    """Pixels of opening per unit of the width map: openings up to half the input map to [0, 1]."""
    return size / 2.0


def encode_targets(rects: Iterable[GraspRect], size: int) -> np.ndarray:
    """4×S×S float32 maps; where rectangles overlap, quality is the higher one and the later
    rectangle's angle and width win."""
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
        u, v = (dx * c + dy * s) / half_u, (-dx * s + dy * c) / half_v
        inside = (np.abs(u) <= 1) & (np.abs(v) <= 1)
        window = maps[:, y_lo:y_hi, x_lo:x_hi]
        peak = r.quality * np.exp(-FALLOFF * (u ** 2 + v ** 2))
        window[0][inside] = np.maximum(window[0][inside], peak[inside])
        window[1][inside] = math.cos(2 * r.angle)
        window[2][inside] = math.sin(2 * r.angle)
        window[3][inside] = r.length / scale
    return maps
