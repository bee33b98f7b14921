"""Draw grasp rectangles on a colour image for the annotated-image topic."""
from __future__ import annotations

from typing import Sequence

import numpy as np

BEST = (0, 255, 0)        # RGB of the best grasp
OTHER = (255, 160, 0)     # RGB of the rest
JAW = (255, 0, 0)         # the two jaw edges, so opening and jaw sides can be told apart


def draw_grasps(rgb: np.ndarray, corners: Sequence[np.ndarray]) -> np.ndarray:
    """A copy of `rgb` with each grasp's 4 corners (x, y) drawn, best first.

    Corners are ordered so that edges 0-1 and 2-3 are the jaws (the gripper fingers' sides).
    """
    import cv2

    image = np.ascontiguousarray(rgb, dtype=np.uint8).copy()
    for index, quad in reversed(list(enumerate(corners))):
        points = np.round(np.asarray(quad, dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [points], True, BEST if index == 0 else OTHER, 1, cv2.LINE_8)
        for a, b in ((0, 1), (2, 3)):
            cv2.line(image, tuple(points[a, 0]), tuple(points[b, 0]), JAW, 2, cv2.LINE_8)
    return image
