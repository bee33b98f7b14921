"""RealSense-like imperfections for rendered images, and the wider ones of `SensorStyle`.

Depth: axial noise growing with distance squared, a smooth low-frequency bias, 1 mm
quantisation, and holes (0.0, the RealSense "no data" value) along depth discontinuities, where
the stereo pair's second view is occluded, plus random dropout blobs. Colour: sensor noise.

A `structured_light` style (Kinect v1, RealSense) adds what their depth shows beyond that: depth
steps that grow with distance squared (disparity quantisation: about 1.4 mm at 0.7 m, 4 mm at 1.2 m),
flying pixels (depths between the two sides of a discontinuity) and wider shadows; `exposure` and
`white_balance` scale the colour image (gamma follows the exposure).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

DISPARITY_STEP = 0.0029     # Kinect v1: depth step ≈ this × z² (metres), 1/8 px disparity


@dataclass(frozen=True)
class SensorStyle:
    """How the rendered frame is degraded. The default is the plain RealSense-like noise."""
    structured_light: bool = False
    shadow_px: tuple[int, int] = (2, 6)          # occlusion shadow width range (pixels)
    exposure: float = 1.0                        # colour gain (1: as rendered)
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)


def noisy_depth(depth: np.ndarray, rng: np.random.Generator, *, hole_fraction: float = 0.01,
                style: SensorStyle = SensorStyle()) -> np.ndarray:
    """A D435-like (or, with `style.structured_light`, Kinect-like) version of a perfect metric depth
    image (float32, metres, 0 = no data)."""
    h, w = depth.shape
    sigma = 0.0006 + 0.0025 * depth ** 2          # about 1.5 mm at 0.6 m
    coarse = rng.normal(0.0, 0.001, size=(h // 32 + 2, w // 32 + 2)).astype(np.float32)
    bias = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    out = depth + bias + rng.standard_normal(size=depth.shape, dtype=np.float32) * sigma
    if style.structured_light:
        out = _flying_pixels(out, depth, rng)
        step_m = np.maximum(DISPARITY_STEP * depth ** 2, 0.001)
        out = np.round(out / step_m) * step_m
    else:
        out = np.round(out * 1000.0) / 1000.0
    # Occlusion shadows: the projector/second imager sits to one side, so pixels just past a
    # step towards the background along image x lose their match.
    step = np.zeros_like(depth, dtype=bool)
    step[:, 1:] = (depth[:, 1:] - depth[:, :-1]) > 0.01
    band = int(rng.integers(*style.shadow_px))
    shadow = cv2.dilate(step.astype(np.uint8), np.ones((1, band), np.uint8), anchor=(0, 0)) > 0
    # Dropout blobs of irregular shape: the top tail of a smooth random field.
    field = cv2.resize(rng.random(size=(h // 12, w // 12)).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    blobs = field > np.quantile(field, 1.0 - hole_fraction)
    out[shadow | blobs] = 0.0
    return out.astype(np.float32)


def _flying_pixels(out: np.ndarray, depth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half the pixels beside a discontinuity (> 1 cm to a 4-neighbour) get a depth drawn between
    their own and the far side's, as a sensor's window straddling the edge reports."""
    far = cv2.dilate(depth, np.ones((3, 3), np.uint8))
    edge = (far - depth > 0.01) & (rng.random(depth.shape) < 0.5)
    mix = rng.random(depth.shape).astype(np.float32)
    return np.where(edge, out + mix * (far - depth), out).astype(np.float32)


def noisy_rgb(rgb: np.ndarray, rng: np.random.Generator, *, style: SensorStyle = SensorStyle()) -> np.ndarray:
    """Colour image with per-pixel sensor noise and a small global gain (white balance) jitter; then
    the style's exposure and white balance, with gamma 1/exposure^0.5 on [0, 1] values."""
    gain = rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    noise = rng.standard_normal(size=rgb.shape, dtype=np.float32) * 3.0
    out = np.clip(rgb * gain + noise, 0, 255)
    if style.exposure != 1.0 or style.white_balance != (1.0, 1.0, 1.0):
        scaled = np.clip(out / 255.0 * style.exposure * np.asarray(style.white_balance, np.float32), 0.0, 1.0)
        out = 255.0 * scaled ** (1.0 / np.sqrt(style.exposure))
    return out.astype(np.uint8)
