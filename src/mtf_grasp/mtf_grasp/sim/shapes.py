"""Object categories: primitives and composites (L, T, mug, hammer) built from MuJoCo geoms.

Each category is a builder that draws random dimensions and returns the parts in the object's
own frame (z up, resting on z = 0). Thin and composite shapes are there on purpose: they make
grasping harder than a table of boxes, so learned detectors do not all saturate.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Part:
    """One MuJoCo geom: `kind` box (size = half extents) or cylinder (radius, half height)."""

    kind: str
    size: tuple[float, ...]
    pos: tuple[float, float, float]

    def half_extents(self) -> np.ndarray:
        """Axis-aligned half extents in the object frame (parts are never rotated in it)."""
        if self.kind == 'box':
            return np.asarray(self.size, float)
        radius, half_height = self.size
        return np.array([radius, radius, half_height])


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _box(rng):
    a, b, c = _u(rng, .015, .04), _u(rng, .02, .055), _u(rng, .015, .04)
    return (Part('box', (a, b, c), (0, 0, c)),)


def _cylinder(rng):
    r, h = _u(rng, .015, .035), _u(rng, .02, .05)
    return (Part('cylinder', (r, h), (0, 0, h)),)


def _rod(rng):
    t = _u(rng, .006, .011)
    return (Part('box', (_u(rng, .05, .09), t, t), (0, 0, t)),)


def _plate(rng):
    c = _u(rng, .005, .01)
    return (Part('box', (_u(rng, .035, .06), _u(rng, .02, .038), c), (0, 0, c)),)


def _l_shape(rng):
    w, h = _u(rng, .008, .016), _u(rng, .012, .025)
    long_, short = _u(rng, .04, .07), _u(rng, .025, .045)
    return (Part('box', (long_, w, h), (0, 0, h)),
            Part('box', (w, short, h), (long_ - w, short - w, h)))


def _t_shape(rng):
    w, h = _u(rng, .008, .016), _u(rng, .012, .025)
    bar, stem = _u(rng, .035, .06), _u(rng, .025, .05)
    return (Part('box', (bar, w, h), (0, 0, h)),
            Part('box', (w, stem, h), (0, -stem, h)))


def _mug(rng):
    r, h = _u(rng, .022, .033), _u(rng, .03, .048)
    grip = _u(rng, .008, .014)
    return (Part('cylinder', (r, h), (0, 0, h)),
            Part('box', (grip, .005, .7 * h), (r + grip, 0, h)))


def _hammer(rng):
    t = _u(rng, .006, .01)
    handle = _u(rng, .05, .08)
    hx, hy, hz = _u(rng, .012, .018), _u(rng, .025, .04), _u(rng, .012, .02)
    return (Part('box', (handle, t, t), (0, 0, t)),
            Part('box', (hx, hy, hz), (handle + hx, 0, hz)))


def _bottle(rng):
    r, h = _u(rng, .018, .034), _u(rng, .04, .075)
    neck_r, neck_h = _u(rng, .008, .013), _u(rng, .01, .02)
    return (Part('cylinder', (r, h), (0, 0, h)),
            Part('cylinder', (neck_r, neck_h), (0, 0, 2 * h + neck_h)))


def _tall_box(rng):
    a, b, c = _u(rng, .012, .025), _u(rng, .02, .04), _u(rng, .045, .075)
    return (Part('box', (a, b, c), (0, 0, c)),)


def _disc(rng):
    r, h = _u(rng, .025, .045), _u(rng, .003, .008)
    return (Part('cylinder', (r, h), (0, 0, h)),)


def _spatula(rng):
    t = _u(rng, .005, .009)
    handle = _u(rng, .045, .07)
    blade_x, blade_y, blade_z = _u(rng, .02, .035), _u(rng, .015, .03), _u(rng, .002, .005)
    return (Part('box', (handle, t, t), (0, 0, t)),
            Part('box', (blade_x, blade_y, blade_z), (handle + blade_x, 0, blade_z)))


def _u_shape(rng):
    w, h = _u(rng, .007, .012), _u(rng, .01, .02)
    base, arm = _u(rng, .03, .05), _u(rng, .02, .04)
    return (Part('box', (base, w, h), (0, 0, h)),
            Part('box', (w, arm, h), (base - w, arm - w, h)),
            Part('box', (w, arm, h), (-base + w, arm - w, h)))


CATEGORIES: dict[str, Callable[[np.random.Generator], tuple[Part, ...]]] = {
    'box': _box, 'cylinder': _cylinder, 'rod': _rod, 'plate': _plate,
    'l_shape': _l_shape, 't_shape': _t_shape, 'mug': _mug, 'hammer': _hammer,
    'bottle': _bottle, 'tall_box': _tall_box, 'disc': _disc, 'spatula': _spatula, 'u_shape': _u_shape,
}
# The table-top scenes draw from the first eight (their datasets regenerate unchanged); the
# real-camera preset also from the tall, flat and everyday-object-like ones after them.
CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)[:8]
ALL_CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)


def build_parts(category: str, rng: np.random.Generator) -> tuple[Part, ...]:
    """Random parts of `category`, re-centred so the object's footprint centre is the origin."""
    parts = CATEGORIES[category](rng)
    lo = np.min([np.asarray(p.pos) - p.half_extents() for p in parts], axis=0)
    hi = np.max([np.asarray(p.pos) + p.half_extents() for p in parts], axis=0)
    shift = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, 0.0])
    return tuple(Part(p.kind, tuple(map(float, p.size)),
                      tuple(map(float, np.asarray(p.pos) - shift))) for p in parts)


def footprint_radius(parts: tuple[Part, ...]) -> float:
    """Radius of the circle around the origin that covers the object seen from above."""
    return float(max(np.hypot(*(np.abs(p.pos[:2]) + p.half_extents()[:2])) for p in parts))


def height(parts: tuple[Part, ...]) -> float:
    return float(max(p.pos[2] + p.half_extents()[2] for p in parts))
