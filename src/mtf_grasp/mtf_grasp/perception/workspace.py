"""The workspace: where grasps may be reported. An optional region of interest (source pixels) and a
depth band, in metres above the support surface (the table or board the objects stand on), which is
estimated from the frame itself.

The support is the plane with the most depth points within `plane_tolerance_m` of it (RANSAC over a
fixed pixel grid of the region, seeded: a frame always gives the same plane), refined by least
squares over those points and oriented so that heights towards the camera are positive. A pixel is in
the workspace when it is inside the region, has depth, and its height (after a 5×5 median, against
flying pixels) lies in [min_height_m, max_height_m]. The edge of a board, a table edge with the floor
beyond it, or anything lower than the support therefore lies outside: such edges are long depth
steps that an untrained eye (and a detector trained on clean table tops) takes for graspable rims.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mtf_grasp.perception.bad_frame import BadFrame
from mtf_grasp.perception.intrinsics import CameraIntrinsics

FIT_POINTS = 4000       # pixels sampled (on a grid) for the plane fit
RANSAC_ROUNDS = 200


@dataclass(frozen=True)
class WorkspaceSettings:
    """`roi` = (x0, y0, x1, y1) source pixels, x1/y1 exclusive; None: the whole frame. The depth band
    is on when `max_height_m` > 0."""
    roi: tuple[int, int, int, int] | None = None
    min_height_m: float = 0.01
    max_height_m: float = 0.0
    plane_tolerance_m: float = 0.006

    def __post_init__(self):
        if self.roi is not None:
            x0, y0, x1, y1 = self.roi
            if x0 < 0 or y0 < 0 or x1 <= x0 or y1 <= y0:
                raise ValueError(f'workspace roi {self.roi}: need 0 <= x0 < x1 and 0 <= y0 < y1')
        if self.max_height_m < 0 or self.plane_tolerance_m <= 0 or \
                (self.max_height_m > 0 and self.min_height_m >= self.max_height_m):
            raise ValueError(f'workspace band [{self.min_height_m}, {self.max_height_m}] m, plane tolerance '
                             f'{self.plane_tolerance_m} m: need max_height_m >= 0 (0: no band), '
                             f'min_height_m < max_height_m and a tolerance > 0')

    @property
    def active(self) -> bool:
        return self.roi is not None or self.max_height_m > 0


@dataclass(frozen=True)
class SupportPlane:
    """n·p = offset in the camera optical frame, |n| = 1, n pointing towards the camera."""
    normal: tuple[float, float, float]
    offset: float
    inliers: float     # share of the fitted points within the tolerance

    def heights(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points) @ np.asarray(self.normal) - self.offset


def _roi_slices(settings: WorkspaceSettings, shape: tuple[int, int]) -> tuple[slice, slice]:
    if settings.roi is None:
        return slice(0, shape[0]), slice(0, shape[1])
    x0, y0, x1, y1 = settings.roi
    if x1 > shape[1] or y1 > shape[0]:
        raise BadFrame(f'workspace roi {settings.roi} does not fit a {shape[1]}x{shape[0]} frame')
    return slice(y0, y1), slice(x0, x1)


def _points(depth_m: np.ndarray, intrinsics: CameraIntrinsics) -> np.ndarray:
    v, u = np.mgrid[0:depth_m.shape[0], 0:depth_m.shape[1]]
    return intrinsics.deproject(u, v, depth_m)


def fit_support(depth_m: np.ndarray, intrinsics: CameraIntrinsics, *,
                settings: WorkspaceSettings = WorkspaceSettings()) -> SupportPlane | None:
    """The dominant plane of the region's depth; None when it has fewer than 3 valid pixels."""
    rows, cols = _roi_slices(settings, depth_m.shape)
    v, u = np.mgrid[rows, cols]
    z = depth_m[rows, cols]
    step = max(int(np.sqrt(z.size / FIT_POINTS)), 1)
    u, v, z = u[::step, ::step].ravel(), v[::step, ::step].ravel(), z[::step, ::step].ravel()
    valid = np.isfinite(z) & (z > 0)
    if valid.sum() < 3:
        return None
    pts = intrinsics.deproject(u[valid], v[valid], z[valid])
    rng = np.random.default_rng(0)
    best, best_count = None, -1
    for _ in range(RANSAC_ROUNDS):
        a, b, c = pts[rng.choice(len(pts), 3, replace=False)]
        n = np.cross(b - a, c - a)
        norm = np.linalg.norm(n)
        if norm < 1e-12:
            continue
        n = n / norm
        count = int(np.count_nonzero(np.abs(pts @ n - n @ a) < settings.plane_tolerance_m))
        if count > best_count:
            best, best_count = (n, float(n @ a)), count
    if best is None:
        return None
    n, d = best
    inliers = pts[np.abs(pts @ n - d) < settings.plane_tolerance_m]
    centre = inliers.mean(axis=0)
    n = np.linalg.svd(inliers - centre, full_matrices=False)[2][-1]   # least-squares normal
    n = n if n @ centre < 0 else -n        # the camera (origin) is on the positive side
    return SupportPlane(normal=tuple(map(float, n)), offset=float(n @ centre),
                        inliers=float(np.count_nonzero(np.abs(pts @ n - n @ centre) < settings.plane_tolerance_m))
                        / len(pts))


def height_map(depth_m: np.ndarray, intrinsics: CameraIntrinsics, plane: SupportPlane) -> np.ndarray:
    """Metres above the support for every pixel (5×5 median depth); NaN where there is no depth."""
    valid = np.isfinite(depth_m) & (depth_m > 0)
    smooth = cv2.medianBlur(np.where(valid, depth_m, 0).astype(np.float32), 5)
    heights = plane.heights(_points(smooth, intrinsics))
    return np.where(valid & (smooth > 0), heights, np.nan)


def workspace_mask(depth_m: np.ndarray, intrinsics: CameraIntrinsics, settings: WorkspaceSettings) -> np.ndarray:
    """H×W bool: where grasps may be. Everything when `settings` is not active; nothing when the band
    is on and no support plane can be found."""
    mask = np.zeros(depth_m.shape, bool)
    rows, cols = _roi_slices(settings, depth_m.shape)
    mask[rows, cols] = True
    if settings.max_height_m <= 0:
        return mask
    plane = fit_support(depth_m, intrinsics, settings=settings)
    if plane is None:
        return np.zeros_like(mask)
    with np.errstate(invalid='ignore'):
        heights = height_map(depth_m, intrinsics, plane)
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
