"""Depth-based clearance of a grasp's fingers, and the top-k re-ranked by it.

A top-down finger descends to the fingertip depth; anything in its footprint that the depth image
shows nearer the camera than that would stop it (a neighbour, a pile, the object itself when the
opening is too narrow). Fingertip depth = surface depth at the grasp centre + `grasp_depth_m`,
but no deeper than just above the local background (the table: the far end of the depth around
the grasp), as the executors clamp it. The finger footprints are sampled on a small grid outside
the opening at both ends; the blocked share is over the samples with valid depth.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mtf_grasp.perception.grasp_pose import centre_depth
from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.perception.pick_pose import GRASP_DEPTH_M, TABLE_CLEARANCE_M


@dataclass(frozen=True)
class ClearanceSettings:
    margin_m: float = 0.004            # nearer than fingertip depth minus this: an obstacle
    max_blocked: float = 0.05          # a grasp with a larger blocked share is rejected
    finger_thickness_m: float = 0.008  # along the closing axis (sim/gripper.py sizes)
    finger_width_m: float = 0.02       # across it
    grasp_depth_m: float = GRASP_DEPTH_M
    background_percentile: float = 90.0


def blocked_share(*, x: float, y: float, angle: float, length_px: float, depth_m: np.ndarray,
                  intrinsics: CameraIntrinsics, settings: ClearanceSettings = ClearanceSettings()) -> float | None:
    """Share of both finger footprints that is nearer the camera than the fingertips; None when
    there is no depth at the grasp centre."""
    z = centre_depth(depth_m, x=x, y=y)
    if z is None:
        return None
    px_per_m = (intrinsics.fx + intrinsics.fy) / 2 / z
    thick, wide = settings.finger_thickness_m * px_per_m, settings.finger_width_m * px_per_m
    h, w = depth_m.shape
    reach = int(length_px / 2 + 2 * thick + wide)
    window = depth_m[max(int(y) - reach, 0):int(y) + reach + 1, max(int(x) - reach, 0):int(x) + reach + 1]
    valid = window[np.isfinite(window) & (window > 0)]
    background = float(np.percentile(valid, settings.background_percentile))
    tip = min(z + settings.grasp_depth_m, background - TABLE_CLEARANCE_M)
    c, s = math.cos(angle), math.sin(angle)
    along = length_px / 2 + thick / 2 + np.linspace(-thick / 2, thick / 2, 3)
    across = np.linspace(-wide / 2, wide / 2, 7)
    a, b = np.meshgrid(np.concatenate([along, -along]), across)
    cols = np.round(x + a * c - b * s).astype(int).ravel()
    rows = np.round(y + a * s + b * c).astype(int).ravel()
    inside = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    d = depth_m[rows[inside], cols[inside]]
    d = d[np.isfinite(d) & (d > 0)]
    return float(np.mean(d < tip - settings.margin_m)) if d.size else 0.0


def rerank_by_clearance(grasps: Sequence, *, depth_m: np.ndarray, intrinsics: CameraIntrinsics,
                        settings: ClearanceSettings = ClearanceSettings()) -> list:
    """Grasps (GraspRect-like: cx, cy, angle, length) with clear fingers first, in their order;
    then the rejected ones, least blocked first, so a consumer taking the best gets a clear one
    whenever there is one. Grasps without depth at the centre go last."""
    scored = []
    for index, g in enumerate(grasps):
        share = blocked_share(x=g.cx, y=g.cy, angle=g.angle, length_px=g.length, depth_m=depth_m,
                              intrinsics=intrinsics, settings=settings)
        share = 2.0 if share is None else share
        scored.append(((share > settings.max_blocked, share if share > settings.max_blocked else 0.0, index), g))
    return [g for _, g in sorted(scored, key=lambda item: item[0])]
