"""The rectangle metric of Cornell and Jacquard: a top-k prediction is a success when one of its
grasps is within the angle tolerance of a ground-truth rectangle and overlaps it by more than the IoU
threshold."""
from __future__ import annotations

import math
from typing import Sequence

from mtf_grasp.grasping.rect import GraspRect, angle_difference, rect_iou


def rect_matches(pred: GraspRect, gt: GraspRect, *, angle_tol_deg: float = 30.0,
                 iou_threshold: float = 0.25) -> bool:
    """One predicted rectangle against one ground truth: angle within tolerance and IoU above threshold."""
    if angle_difference(pred.angle, gt.angle) > math.radians(angle_tol_deg) + 1e-9:
        return False
    return rect_iou(pred, gt) > iou_threshold


def grasp_success(pred: Sequence[GraspRect] | GraspRect, gt: Sequence[GraspRect], *, top_k: int = 1,
                  angle_tol_deg: float = 30.0, iou_threshold: float = 0.25) -> bool:
    """True if any of the first `top_k` predictions (ranked best first) matches any ground truth."""
    if isinstance(pred, GraspRect):
        pred = [pred]
    return any(rect_matches(p, g, angle_tol_deg=angle_tol_deg, iou_threshold=iou_threshold)
               for p in list(pred)[:top_k] for g in gt)
