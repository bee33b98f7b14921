"""Augmentations that move the network input and its rectangles together: rotation, zoom, shift (crop)."""
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
