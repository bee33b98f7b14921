"""From a camera frame to the network input: crop a square, resize, normalise; and the map back.

Live inference and the offline loaders both call `preprocess`, so a frame gives the same tensor
whichever way it arrives.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import torch

from mtf_grasp.grasping.rect import GraspRect

# Depth is taken relative to a reference (the model's `depth_ref`) and expressed in decimetres, so
# object heights of 2–15 cm land in the ±1 range the network sees at any camera distance. 'mean' and
# 'median' subtract one number; 'plane' subtracts the support surface fitted to the crop (a robust
# quadratic in the pixel coordinates: a tilted table, and the curved depth of a camera that reports
# distance along the ray instead of z, become flat), so what stands on the support has the same
# values whatever the camera's height and tilt, and a board edge or the floor does not shift them.
DEPTH_GAIN = 10.0


@dataclass(frozen=True)
class ImageTransform:
    """Similarity map between source-image pixels and model-input pixels (pixel centres, cv2 style)."""
    scale: float      # model pixels per source pixel
    x0: float         # crop origin in the source image
    y0: float

    @property
    def to_model_matrix(self) -> np.ndarray:
        s = self.scale
        return np.array([[s, 0.0, (0.5 - self.x0) * s - 0.5], [0.0, s, (0.5 - self.y0) * s - 0.5]])

    @property
    def to_source_matrix(self) -> np.ndarray:
        return cv2.invertAffineTransform(self.to_model_matrix)

    def to_model(self, rect: GraspRect) -> GraspRect:
        return rect.transformed(self.to_model_matrix)

    def to_source(self, rect: GraspRect) -> GraspRect:
        return rect.transformed(self.to_source_matrix)

    def to_model_mask(self, mask: np.ndarray, size: int) -> np.ndarray:
        """A source-image bool mask as the model sees it: cropped and resized like the input
        (area average), a model pixel set when at least half of what it covers is."""
        side = int(round(size / self.scale))
        x0, y0 = int(round(self.x0)), int(round(self.y0))
        part = np.ascontiguousarray(mask[y0:y0 + side, x0:x0 + side], dtype=np.float32)
        return cv2.resize(part, (size, size), interpolation=cv2.INTER_AREA) >= 0.5


def square_crop(height: int, width: int, crop: tuple[int, int, int] | None) -> tuple[int, int, int]:
    """(x0, y0, side) of the crop: the given one, checked, or the centred square."""
    if crop is None:
        side = min(height, width)
        return (width - side) // 2, (height - side) // 2, side
    x0, y0, side = (int(v) for v in crop)
    if side <= 0 or x0 < 0 or y0 < 0 or x0 + side > width or y0 + side > height:
        raise ValueError(f'crop {crop} (x0, y0, side) does not fit a {width}x{height} image')
    return x0, y0, side


def _depth_channel(depth: np.ndarray, size: int, out: np.ndarray, *, ref: str) -> None:
    """Resize depth ignoring holes (0, NaN), inpaint what stays empty, centre and scale it into `out`."""
    valid = np.isfinite(depth) & (depth > 0)
    filled = np.where(valid, depth, 0.0).astype(np.float32)
    if depth.shape == (size, size):   # a camera cropped to the model's input: nothing to resample
        metres, holes = filled, ~valid
    else:
        num = cv2.resize(filled, (size, size), interpolation=cv2.INTER_AREA)
        den = cv2.resize(valid.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
        holes = den < 1e-3
        metres = np.where(holes, 0.0, num / np.maximum(den, 1e-3)).astype(np.float32)
    if holes.all():
        out[:] = 0.0
        return
    if holes.any():
        metres = cv2.inpaint(metres, holes.astype(np.uint8), 3, cv2.INPAINT_NS)
    if ref == 'plane':
        np.subtract(metres, support_surface(metres), out=out)
    else:
        np.subtract(metres, np.median(metres) if ref == 'median' else metres.mean(), out=out)
    np.multiply(out, DEPTH_GAIN, out=out)
    np.clip(out, -1.0, 1.0, out=out)


def polynomial_terms(u: np.ndarray, v: np.ndarray, degree: int) -> np.ndarray:
    """The monomials u^i·v^j, i + j <= degree, per point (coordinates scaled to about [-1, 1]), last axis."""
    return np.stack([u ** i * v ** j for i in range(degree + 1) for j in range(degree + 1 - i)], axis=-1)


@lru_cache(maxsize=8)
def _basis(height: int, width: int, degree: int) -> np.ndarray:
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    return polynomial_terms((2 * u / max(width - 1, 1) - 1).ravel(), (2 * v / max(height - 1, 1) - 1).ravel(),
                            degree)


SURFACE_ROUNDS = 4        # keep what lies near the surface, fit it, again
SURFACE_MIN_SIGMA_M = 0.002


def fit_surface(metres: np.ndarray, valid: np.ndarray | None = None, *, degree: int = 2) -> np.ndarray | None:
    """The dominant smooth surface of a depth image as the coefficients of `polynomial_terms` over
    pixel coordinates scaled to [-1, 1] (u = 2·col/(W-1) - 1, v likewise). It starts from the median
    depth (the level most pixels share) and `SURFACE_ROUNDS` times keeps the `valid` pixels (default
    all) within 2.5 robust standard deviations (at least 2 mm) of the current surface and fits a
    polynomial of `degree` to them by least squares, so objects on the support, and a floor or
    wall beside it, drop out. None with too few valid pixels."""
    basis = _basis(*metres.shape, degree)
    z = metres.ravel().astype(np.float64)
    usable = np.ones(z.size, bool) if valid is None else valid.ravel()
    if usable.sum() < basis.shape[1]:
        return None
    residual, keep, coef = z - np.median(z[usable]), usable, None
    for _ in range(SURFACE_ROUNDS):
        sigma = max(1.4826 * float(np.median(np.abs(residual[keep]))), SURFACE_MIN_SIGMA_M)
        inside = usable & (np.abs(residual) < 2.5 * sigma)
        if inside.sum() >= basis.shape[1]:
            keep = inside
        elif coef is not None:
            break
        coef = np.linalg.lstsq(basis[keep], z[keep], rcond=None)[0]
        residual = z - basis @ coef
    return coef


def support_surface(metres: np.ndarray) -> np.ndarray:
    """`fit_surface`'s depth (quadratic) at every pixel of a hole-free depth image."""
    return (_basis(*metres.shape, 2) @ fit_surface(metres)).reshape(metres.shape).astype(np.float32)


def _rgb_channels(rgb: np.ndarray, size: int, out: np.ndarray) -> None:
    """Scale to [0, 1] and subtract each channel's mean, into the 3×S×S `out` (one plane at a time:
    strided HWC arithmetic and a transposing copy cost ~3x more at camera rate)."""
    small = rgb if rgb.shape[0] == size else cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    for plane, channel in zip(out, cv2.split(np.ascontiguousarray(small))):
        np.multiply(channel, np.float32(1.0 / 255.0), out=plane)
        plane -= np.float32(cv2.mean(plane)[0])


def preprocess(rgb: np.ndarray | None, depth: np.ndarray | None, *, spec,
               crop: tuple[int, int, int] | None = None) -> tuple[torch.Tensor, ImageTransform]:
    """rgb H×W×3 uint8 (RGB order), depth H×W float32 metres -> (C×S×S float32 tensor, transform).

    Channels follow `spec.channels`: 'rgbd' = depth then R, G, B; 'depth'; 'rgb'. A frame that a
    channel does not need may be None. `crop` = (x0, y0, side) in source pixels; default: centred square.
    """
    needs_depth, needs_rgb = spec.channels in ('rgbd', 'depth'), spec.channels in ('rgbd', 'rgb')
    ref = depth if needs_depth else rgb
    if ref is None:
        raise ValueError(f'channels {spec.channels!r} need {"depth" if needs_depth else "rgb"}, got None')
    if needs_depth and needs_rgb and rgb.shape[:2] != depth.shape[:2]:
        raise ValueError(f'rgb {rgb.shape[1]}x{rgb.shape[0]} and depth {depth.shape[1]}x{depth.shape[0]} differ')
    x0, y0, side = square_crop(ref.shape[0], ref.shape[1], crop)
    size = spec.input_size
    x = np.empty((needs_depth + 3 * needs_rgb, size, size), np.float32)
    if needs_depth:
        _depth_channel(depth[y0:y0 + side, x0:x0 + side], size, out=x[0], ref=spec.depth_ref)
    if needs_rgb:
        _rgb_channels(rgb[y0:y0 + side, x0:x0 + side], size, out=x[int(needs_depth):])
    return torch.from_numpy(x), ImageTransform(scale=size / side, x0=float(x0), y0=float(y0))
