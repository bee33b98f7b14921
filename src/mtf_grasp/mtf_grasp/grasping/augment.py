"""Augmentations of the network input: rotation, zoom and shift (crop position), which move the
rectangles with the image; and photometric ones, which leave them alone: colour gain and brightness
(exposure, white balance), depth noise and a depth scale (object heights, sensor differences).

The photometric parts are off by default (the federated experiments' augmentation stays what it was);
config/train.yaml turns them on for models meant for real cameras."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from mtf_grasp.grasping.rect import GraspRect, inside_image


@dataclass(frozen=True)
class Augmentation:
    max_rotation_deg: float = 180.0
    min_zoom: float = 0.85
    max_zoom: float = 1.15
    max_shift: float = 0.1   # fraction of the input size
    colour_gain: float = 0.0     # each RGB channel × U(1 - g, 1 + g), then + U(-g, g) / 2 brightness
    depth_noise_m: float = 0.0   # depth + N(0, σ), σ ~ U(0, this) metres
    depth_scale: float = 0.0     # depth (relative to its reference) × U(1 - s, 1 + s)

    def __post_init__(self):
        if not (0 <= self.max_rotation_deg <= 180 and 0 < self.min_zoom <= self.max_zoom and 0 <= self.max_shift < 1
                and 0 <= self.colour_gain < 1 and 0 <= self.depth_noise_m and 0 <= self.depth_scale < 1):
            raise ValueError(f'augmentation {self}: need 0 <= max_rotation_deg <= 180, 0 < min_zoom <= max_zoom, '
                             f'0 <= max_shift < 1, 0 <= colour_gain < 1, depth_noise_m >= 0, 0 <= depth_scale < 1')

    def photometric(self, x: np.ndarray, channels: str, rng: np.random.Generator) -> np.ndarray:
        """A copy of the C×S×S input (channel layout `channels`, as `preprocess` makes it) with colour
        and depth jitter; `x` itself when every photometric part is off (no random numbers drawn)."""
        if not (self.colour_gain or self.depth_noise_m or self.depth_scale):
            return x
        from mtf_grasp.grasping.transform import DEPTH_GAIN

        out = np.array(x, dtype=np.float32)
        has_depth = channels in ('rgbd', 'depth')
        if has_depth:
            depth = out[0]
            depth *= rng.uniform(1 - self.depth_scale, 1 + self.depth_scale)
            depth += rng.standard_normal(depth.shape, dtype=np.float32) * \
                np.float32(rng.uniform(0, self.depth_noise_m) * DEPTH_GAIN)
            np.clip(depth, -1.0, 1.0, out=depth)
        if channels in ('rgbd', 'rgb'):
            rgb = out[int(has_depth):]
            rgb *= rng.uniform(1 - self.colour_gain, 1 + self.colour_gain, size=(3, 1, 1)).astype(np.float32)
            rgb += np.float32(rng.uniform(-self.colour_gain, self.colour_gain) / 2)
        return out

    def random_matrix(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """A 2×3 similarity about the image centre: rotate, zoom, then shift."""
        turn = math.radians(rng.uniform(-self.max_rotation_deg, self.max_rotation_deg))
        zoom = rng.uniform(self.min_zoom, self.max_zoom)
        shift = rng.uniform(-self.max_shift, self.max_shift, size=2) * size
        centre = (size - 1) / 2.0
        # cv2's angle is counter-clockwise on screen; ours turns x towards y (clockwise on screen).
        m = cv2.getRotationMatrix2D((centre, centre), -math.degrees(turn), zoom)
        m[:, 2] += shift
        return m


def warp_sample(x: np.ndarray, rects: list[GraspRect], matrix: np.ndarray) -> tuple[np.ndarray, list[GraspRect]]:
    """Apply `matrix` to a C×S×S input (edges replicated) and to its rectangles; drop rectangles
    whose centre leaves the image."""
    size = x.shape[-1]
    hwc = np.ascontiguousarray(x.transpose(1, 2, 0))
    warped = cv2.warpAffine(hwc, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if warped.ndim == 2:
        warped = warped[:, :, None]
    kept = inside_image([r.transformed(matrix) for r in rects], size)
    return np.ascontiguousarray(warped.transpose(2, 0, 1)), kept
