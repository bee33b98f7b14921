"""Antipodal grasp candidates from the settled geometry, and their image-space rectangles.

For every part of every object, the fingers may close across any of its horizontal axes that is
narrower than the gripper (boxes), across the diameter of a cylinder (any direction when upright,
across the axis when lying), at positions spaced along the part. Candidates are only proposals:
the physics trial decides which ones become labels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.sim.camera import CameraPose
from mtf_grasp.sim.gripper import GRIPPER
from mtf_grasp.sim.world import SimScene

CLEARANCE = 0.012      # added to the object width: room for the fingers on the way down
SPACING = 0.01         # between candidate grasp centres along a part
MAX_PER_AXIS = 7
HORIZONTAL = 0.5       # |z component| below which an axis counts as horizontal
UPRIGHT_YAWS = tuple(k * math.pi / 6 for k in range(6))


@dataclass(frozen=True)
class Candidate:
    """A top-down grasp in the world: top-surface centre, opening direction, slide direction."""

    object_index: int
    top: np.ndarray          # point on the part's top surface at the grasp centre
    axis: np.ndarray         # unit, horizontal: the direction the fingers close along
    opening: float           # m


@dataclass(frozen=True)
class ImageGrasp:
    """A grasp in image pixels, Jacquard convention: angle in degrees in image axes."""

    x: float
    y: float
    angle_deg: float
    opening_px: float
    jaw_px: float

    def to_line(self) -> str:
        return f'{self.x:.2f};{self.y:.2f};{self.angle_deg:.2f};{self.opening_px:.2f};{self.jaw_px:.2f}'


def _flat(v: np.ndarray) -> np.ndarray:
    v = np.array([v[0], v[1], 0.0])
    return v / np.linalg.norm(v)


def _along(centre, direction, half_length: float) -> list[np.ndarray]:
    """Grasp centres spaced along `direction` within +-half_length (jaw kept on the part)."""
    reach = max(half_length - GRIPPER.jaw_width / 2, 0.0)
    count = min(MAX_PER_AXIS, int(2 * reach / SPACING) + 1)
    return [centre + t * direction for t in np.linspace(-reach, reach, count)] if count > 1 else [centre]


def _box_candidates(index: int, top: np.ndarray, rot: np.ndarray, half: np.ndarray) -> list[Candidate]:
    """Across each horizontal axis narrower than the gripper, slid along the other one."""
    horizontal = [a for a in range(3) if abs(rot[2, a]) < HORIZONTAL]
    out = []
    for a in horizontal:
        if 2 * half[a] > GRIPPER.max_opening - CLEARANCE:
            continue
        for b in horizontal:
            if b != a:
                out += [Candidate(index, p, _flat(rot[:, a]), 2 * half[a] + CLEARANCE)
                        for p in _along(top, _flat(rot[:, b]), half[b])]
    return out


def _cylinder_candidates(index: int, top: np.ndarray, axis: np.ndarray, radius: float,
                         half_length: float) -> list[Candidate]:
    """Across the diameter: in several directions when upright, across the axis when lying."""
    opening = 2 * radius + CLEARANCE
    if opening > GRIPPER.max_opening:
        return []
    if abs(axis[2]) > 0.9:
        return [Candidate(index, top, np.array([math.cos(y), math.sin(y), 0.0]), opening)
                for y in UPRIGHT_YAWS]
    if abs(axis[2]) < HORIZONTAL:
        across = _flat(np.cross(axis, [0.0, 0.0, 1.0]))
        return [Candidate(index, p, across, opening) for p in _along(top, _flat(axis), half_length)]
    return []


def grasp_candidates(sim: SimScene) -> list[Candidate]:
    """Candidates for every object in its settled pose."""
    out = []
    for i, obj in enumerate(sim.spec.objects):
        pos, rot = sim.object_position(i), sim.object_rotation(i)
        for part in obj.parts:
            centre = pos + rot @ np.asarray(part.pos)
            top = centre + np.array([0.0, 0.0, float(np.abs(rot[2]) @ part.half_extents())])
            if part.kind == 'box':
                out += _box_candidates(i, top, rot, part.half_extents())
            else:
                out += _cylinder_candidates(i, top, rot[:, 2], *part.size)
    return out


def to_image(candidate: Candidate, *, intrinsics: CameraIntrinsics, camera_pose: CameraPose) -> ImageGrasp:
    """The rectangle the camera sees: centre, angle in (-90, 90], opening and jaw in pixels."""
    slide = np.cross([0.0, 0.0, 1.0], candidate.axis)
    points = np.stack([candidate.top,
                       candidate.top - candidate.axis * candidate.opening / 2,
                       candidate.top + candidate.axis * candidate.opening / 2,
                       candidate.top - slide * GRIPPER.jaw_width / 2,
                       candidate.top + slide * GRIPPER.jaw_width / 2])
    px = intrinsics.project(camera_pose.to_camera(points))
    dx, dy = px[2] - px[1]
    angle = math.degrees(math.atan2(dy, dx))
    angle = angle - 180.0 if angle > 90.0 else angle + 180.0 if angle <= -90.0 else angle
    return ImageGrasp(x=float(px[0, 0]), y=float(px[0, 1]), angle_deg=angle,
                      opening_px=float(math.hypot(dx, dy)),
                      jaw_px=float(np.linalg.norm(px[4] - px[3])))
