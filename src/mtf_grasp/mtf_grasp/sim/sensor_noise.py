"""RealSense-like imperfections for rendered images.

Depth: axial noise growing with distance squared, a smooth low-frequency bias, 1 mm
quantisation, and holes (0.0, the RealSense "no data" value) along depth discontinuities, where
the stereo pair's second view is occluded, plus random dropout blobs. Colour: sensor noise.
"""
from __future__ import annotations

import cv2
import numpy as np


def noisy_depth(depth: np.ndarray, rng: np.random.Generator, *, hole_fraction: float = 0.01) -> np.ndarray:
    """A D435-like version of a perfect metric depth image (float32, metres, 0 = no data)."""
    h, w = depth.shape
    sigma = 0.0006 + 0.0025 * depth ** 2          # about 1.5 mm at 0.6 m
    coarse = rng.normal(0.0, 0.001, size=(h // 32 + 2, w // 32 + 2)).astype(np.float32)
    bias = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    out = depth + bias + rng.standard_normal(size=depth.shape, dtype=np.float32) * sigma
    out = np.round(out * 1000.0) / 1000.0
    # Occlusion shadows: the projector/second imager sits to one side, so pixels just past a
    # step towards the background along image x lose their match.
    step = np.zeros_like(depth, dtype=bool)
    step[:, 1:] = (depth[:, 1:] - depth[:, :-1]) > 0.01
    band = int(rng.integers(2, 6))
    shadow = cv2.dilate(step.astype(np.uint8), np.ones((1, band), np.uint8), anchor=(0, 0)) > 0
    # Dropout blobs of irregular shape: the top tail of a smooth random field.
    field = cv2.resize(rng.random(size=(h // 12, w // 12)).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    blobs = field > np.quantile(field, 1.0 - hole_fraction)
    out[shadow | blobs] = 0.0
    return out.astype(np.float32)


def noisy_rgb(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour image with per-pixel sensor noise and a small global gain (white balance) jitter."""
    gain = rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    noise = rng.standard_normal(size=rgb.shape, dtype=np.float32) * 3.0
    return np.clip(rgb * gain + noise, 0, 255).astype(np.uint8)
