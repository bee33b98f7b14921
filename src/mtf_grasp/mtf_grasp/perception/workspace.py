"""The workspace: where grasps may be reported. An optional region of interest (source pixels) and a
depth band, in metres above the support surface (the table or board the objects stand on), which is
estimated from the frame itself.

The support is the dominant smooth surface of the region's depth: the robust cubic in the pixel
coordinates of `grasping.transform.fit_surface` (from the median depth, refitted four times to the
pixels within 2.5 robust σ), fitted to a fixed grid of about 4000 pixels. It lies in image space, so it fits a tilted
table seen in z-depth and the curved depth of a sensor that reports distance along the ray (Cornell's
TIFFs) alike. A pixel's height is how much nearer than the support it is along its ray (for a
top-down camera its height above the support; 1/cos(tilt) more at a tilt), after a 5×5 median
against flying pixels. A pixel is in the workspace when it is inside the region, has depth, and its
height lies in [min_height_m, max_height_m]. The edge of a board, a table edge with the floor beyond
it, or anything lower than the support therefore lies outside: such edges are long depth steps that
a detector trained on clean table tops takes for graspable rims.

An edge margin (a fraction of the crop's side) keeps grasp centres away from the edges of the view
the network sees: next to an edge part of the gripper lies outside the image, and the network's
padding there can make a strong but meaningless peak (on real Cornell frames the best grasp of a
SimGrasp-trained model sat on the crop's top row in 16 of 20 frames; docs/grasp-learning.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mtf_grasp.grasping.transform import fit_surface, polynomial_terms
from mtf_grasp.perception.bad_frame import BadFrame

FIT_POINTS = 4000       # pixels sampled (on a grid) for the surface fit
SURFACE_DEGREE = 3      # a cubic: distance along the ray over a 58° view at a 25° tilt within 3 mm


@dataclass(frozen=True)
class WorkspaceSettings:
    """`roi` = (x0, y0, x1, y1) source pixels, x1/y1 exclusive; None: the whole frame. The depth band
    is on when `max_height_m` > 0. `edge_margin`: no grasp centre within this fraction of the crop's
    side from its edges."""
    roi: tuple[int, int, int, int] | None = None
    min_height_m: float = 0.01
    max_height_m: float = 0.0
    edge_margin: float = 0.0

    def __post_init__(self):
        if self.roi is not None:
            x0, y0, x1, y1 = self.roi
            if x0 < 0 or y0 < 0 or x1 <= x0 or y1 <= y0:
                raise ValueError(f'workspace roi {self.roi}: need 0 <= x0 < x1 and 0 <= y0 < y1')
        if self.max_height_m < 0 or (self.max_height_m > 0 and self.min_height_m >= self.max_height_m):
            raise ValueError(f'workspace band [{self.min_height_m}, {self.max_height_m}] m: need max_height_m >= 0 '
                             f'(0: no band) and min_height_m < max_height_m')
        if not 0 <= self.edge_margin < 0.5:
            raise ValueError(f'workspace edge margin {self.edge_margin}: need 0 <= edge_margin < 0.5')

    @property
    def active(self) -> bool:
        return self.roi is not None or self.max_height_m > 0 or self.edge_margin > 0


def inner_mask(size: int, edge_margin: float) -> np.ndarray:
    """size×size bool, False within round(edge_margin·size) pixels of an edge."""
    margin = int(round(edge_margin * size))
    mask = np.zeros((size, size), bool)
    mask[margin:size - margin, margin:size - margin] = True
    return mask


def _roi_slices(settings: WorkspaceSettings, shape: tuple[int, int]) -> tuple[slice, slice]:
    if settings.roi is None:
        return slice(0, shape[0]), slice(0, shape[1])
    x0, y0, x1, y1 = settings.roi
    if x1 > shape[1] or y1 > shape[0]:
        raise BadFrame(f'workspace roi {settings.roi} does not fit a {shape[1]}x{shape[0]} frame')
    return slice(y0, y1), slice(x0, x1)


def support_depth(depth_m: np.ndarray, settings: WorkspaceSettings = WorkspaceSettings()) -> np.ndarray | None:
    """The support surface's depth at every pixel of the frame (extrapolated outside the region it is
    fitted to); None when the region has fewer than 6 valid pixels on the fitting grid."""
    rows, cols = _roi_slices(settings, depth_m.shape)
    region = depth_m[rows, cols]
    step = max(int(np.sqrt(region.size / FIT_POINTS)), 1)
    grid = region[::step, ::step]
    valid = np.isfinite(grid) & (grid > 0)
    coef = fit_surface(np.where(valid, grid, 0.0), valid, degree=SURFACE_DEGREE)
    if coef is None:
        return None
    # the fit's coordinates: grid column c -> 2c/(w-1) - 1, and grid column c is frame column x0 + c·step
    (h, w), (y0, x0) = grid.shape, (rows.start, cols.start)
    v, u = np.mgrid[0:depth_m.shape[0], 0:depth_m.shape[1]]
    u = 2 * (u - x0) / step / max(w - 1, 1) - 1
    v = 2 * (v - y0) / step / max(h - 1, 1) - 1
    return (polynomial_terms(u, v, SURFACE_DEGREE) @ coef).astype(np.float32)


def height_map(depth_m: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Metres nearer than the support along each pixel's ray (5×5 median depth); NaN without depth."""
    valid = np.isfinite(depth_m) & (depth_m > 0)
    smooth = cv2.medianBlur(np.where(valid, depth_m, 0).astype(np.float32), 5)
    return np.where(valid & (smooth > 0), support - smooth, np.nan)


def workspace_mask(depth_m: np.ndarray, settings: WorkspaceSettings) -> np.ndarray:
    """H×W bool: where grasps may be. Everything when `settings` is not active; nothing when the band
    is on and no support surface can be found."""
    mask = np.zeros(depth_m.shape, bool)
    rows, cols = _roi_slices(settings, depth_m.shape)
    mask[rows, cols] = True
    if settings.max_height_m <= 0:
        return mask
    support = support_depth(depth_m, settings)
    if support is None:
        return np.zeros_like(mask)
    with np.errstate(invalid='ignore'):
        heights = height_map(depth_m, support)
        return mask & (heights >= settings.min_height_m) & (heights <= settings.max_height_m)


def grasps_inside(grasps, mask: np.ndarray) -> list:
    """The grasps (GraspRect-like, source pixels) whose centre pixel is in `mask`, in their order."""
    h, w = mask.shape
    kept = []
    for g in grasps:
        x, y = int(round(g.cx)), int(round(g.cy))
        if 0 <= x < w and 0 <= y < h and mask[y, x]:
            kept.append(g)
    return kept
