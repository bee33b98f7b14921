"""Grasp rectangles in image pixels and their polygon IoU.

Convention: x right, y down (image pixels). `angle` is the direction of the opening axis (the line
along which the fingers close), (cos θ, sin θ) in those pixel axes, normalised into (-π/2, π/2].
Jacquard's `θ°` uses the same axes, so `from_jacquard` only converts degrees. `length` is the opening
along that axis, `jaw` the finger size across it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np


def normalise_angle(angle: float) -> float:
    """Map any angle (rad) onto (-π/2, π/2]: a grasp and its 180° turn are the same grasp."""
    return math.pi / 2 - (math.pi / 2 - angle) % math.pi


def angle_difference(a: float, b: float) -> float:
    """Smallest difference between two grasp angles (rad), modulo π: in [0, π/2]."""
    d = abs(a - b) % math.pi
    return min(d, math.pi - d)


@dataclass(frozen=True)
class GraspRect:
    cx: float
    cy: float
    angle: float
    length: float
    jaw: float
    quality: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, 'angle', normalise_angle(float(self.angle)))

    @classmethod
    def from_corners(cls, pts) -> 'GraspRect':
        """Cornell's four corners (x, y): edge p0→p1 is the opening, p1→p2 the jaw."""
        p = np.asarray(pts, dtype=np.float64).reshape(4, 2)
        opening = p[1] - p[0]
        cx, cy = p.mean(axis=0)
        return cls(cx=float(cx), cy=float(cy), angle=math.atan2(opening[1], opening[0]),
                   length=float(np.hypot(*opening)), jaw=float(np.hypot(*(p[2] - p[1]))))

    @classmethod
    def from_jacquard(cls, x: float, y: float, angle_deg: float, opening: float, jaw: float) -> 'GraspRect':
        """Jacquard's `x;y;θ°;opening;jaw` line (θ in image axes, degrees)."""
        return cls(cx=x, cy=y, angle=math.radians(angle_deg), length=opening, jaw=jaw)

    def to_jacquard(self) -> tuple[float, float, float, float, float]:
        return self.cx, self.cy, math.degrees(self.angle), self.length, self.jaw

    def corners(self) -> np.ndarray:
        """4×2 (x, y) in `from_corners` order: p0→p1 along the opening, p1→p2 along the jaw."""
        u = np.array([math.cos(self.angle), math.sin(self.angle)]) * self.length / 2
        v = np.array([-math.sin(self.angle), math.cos(self.angle)]) * self.jaw / 2
        c = np.array([self.cx, self.cy])
        return np.stack([c - u - v, c + u - v, c + u + v, c - u + v])

    def transformed(self, matrix) -> 'GraspRect':
        """Apply a 2×3 similarity transform (rotation, uniform scale, shift) to this rectangle."""
        m = np.asarray(matrix, dtype=np.float64).reshape(2, 3)
        cx, cy = m[:, :2] @ (self.cx, self.cy) + m[:, 2]
        scale = math.hypot(m[0, 0], m[1, 0])
        turn = math.atan2(m[1, 0], m[0, 0])
        return replace(self, cx=float(cx), cy=float(cy), angle=self.angle + turn,
                       length=self.length * scale, jaw=self.jaw * scale)

    def scaled(self, factor: float) -> 'GraspRect':
        """The same rectangle in an image scaled by `factor` about the origin."""
        return self.transformed([[factor, 0, 0], [0, factor, 0]])

    def area(self) -> float:
        return self.length * self.jaw


def inside_image(rects, size: int) -> list[GraspRect]:
    """The rectangles whose centre lies on an S×S image (pixel centres 0 … S−1)."""
    return [r for r in rects if 0 <= r.cx <= size - 1 and 0 <= r.cy <= size - 1]


def _clip(subject: list, a: np.ndarray, b: np.ndarray) -> list:
    """Keep the part of polygon `subject` left of the directed edge a→b (one Sutherland–Hodgman step)."""
    def side(p):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    out = []
    for i, cur in enumerate(subject):
        prev = subject[i - 1]
        s_cur, s_prev = side(cur), side(prev)
        if s_cur >= 0:
            if s_prev < 0:
                out.append(prev + (cur - prev) * (s_prev / (s_prev - s_cur)))
            out.append(cur)
        elif s_prev >= 0:
            out.append(prev + (cur - prev) * (s_prev / (s_prev - s_cur)))
    return out


def _polygon_area(poly) -> float:
    if len(poly) < 3:
        return 0.0
    p = np.asarray(poly)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _counter_clockwise(p: np.ndarray) -> np.ndarray:
    signed = np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1))
    return p if signed >= 0 else p[::-1]


def rect_iou(a: GraspRect, b: GraspRect) -> float:
    """Exact intersection-over-union of the two rectangles as polygons."""
    pa, pb = _counter_clockwise(a.corners()), _counter_clockwise(b.corners())
    inter = list(pa)
    for i in range(4):
        inter = _clip(inter, pb[i], pb[(i + 1) % 4])
        if not inter:
            return 0.0
    overlap = _polygon_area(inter)
    union = a.area() + b.area() - overlap
    return overlap / union if union > 0 else 0.0
