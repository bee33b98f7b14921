"""Scene specifications: what is on the table, where the camera is, how it is lit.

A `SceneSpec` is plain data drawn from a seed; `SimScene` turns it into a settled MuJoCo world.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np

from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.sim.camera import CameraPose
from mtf_grasp.sim.shapes import CATEGORY_NAMES, Part, build_parts, footprint_radius, height


@dataclass(frozen=True)
class ObjectSpec:
    """An object before it is dropped: parts in its frame, start position and yaw, colour."""

    category: str
    parts: tuple[Part, ...]
    position: tuple[float, float, float]
    yaw: float
    rgba: tuple[float, float, float, float]


@dataclass(frozen=True)
class Lighting:
    direction: tuple[float, float, float]
    diffuse: float
    ambient: float


@dataclass(frozen=True)
class SceneSpec:
    seed: int
    objects: tuple[ObjectSpec, ...]
    camera: CameraPose
    intrinsics: CameraIntrinsics
    lighting: Lighting
    table_rgba: tuple[float, float, float, float]


def _colour(rng: np.random.Generator, *, saturation=(0.3, 1.0), value=(0.3, 1.0)):
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*saturation), rng.uniform(*value))
    return (r, g, b, 1.0)


def _place(rng: np.random.Generator, parts, placed: list[ObjectSpec], centre) -> tuple[float, ...]:
    """A drop point near the cluster centre. Usually a free spot (a few tries); sometimes, or
    when none is found, on top of the objects it overlaps, so piles and touching objects occur
    instead of interpenetration."""
    radius = footprint_radius(parts)
    pile = rng.uniform() < 0.25
    for _ in range(1 if pile else 8):
        distance, bearing = rng.uniform(0.0, 0.09), rng.uniform(0, 2 * math.pi)
        xy = np.asarray(centre) + distance * np.array([math.cos(bearing), math.sin(bearing)])
        below = [o for o in placed
                 if np.hypot(*(xy - o.position[:2])) < radius + footprint_radius(o.parts)]
        if not below:
            break
    z = max([0.002] + [o.position[2] + height(o.parts) + 0.004 for o in below])
    return float(xy[0]), float(xy[1]), float(z)


def random_scene(seed: int | np.random.Generator, *, n_objects: int | None = None,
                 categories: tuple[str, ...] = CATEGORY_NAMES,
                 intrinsics: CameraIntrinsics | None = None) -> SceneSpec:
    """Draw a cluttered table-top scene: 1-4 objects (or `n_objects`), a jittered camera
    about 0.42-0.52 m above the table, random lighting and colours. Same seed, same scene."""
    if isinstance(seed, np.random.Generator):
        rng, seed_value = seed, int(seed.integers(2**31))
    else:
        rng, seed_value = np.random.default_rng(seed), int(seed)
    count = int(rng.integers(1, 5)) if n_objects is None else n_objects
    centre = rng.uniform(-0.03, 0.03, size=2)
    objects: list[ObjectSpec] = []
    for _ in range(count):
        category = str(rng.choice(categories))
        parts = build_parts(category, rng)
        objects.append(ObjectSpec(category=category, parts=parts,
                                  position=_place(rng, parts, objects, centre),
                                  yaw=float(rng.uniform(-math.pi, math.pi)), rgba=_colour(rng)))
    target = np.array([*(centre + rng.uniform(-0.02, 0.02, size=2)), 0.0])
    tilt, heading = rng.uniform(0.0, math.radians(10)), rng.uniform(0, 2 * math.pi)
    view = np.array([math.sin(tilt) * math.cos(heading), math.sin(tilt) * math.sin(heading),
                     math.cos(tilt)])
    camera = CameraPose.look_at(target + rng.uniform(0.42, 0.52) * view, target,
                                roll=float(rng.uniform(-math.pi, math.pi)))
    elevation, azimuth = rng.uniform(math.radians(40), math.radians(90)), rng.uniform(0, 2 * math.pi)
    lighting = Lighting(direction=(-math.cos(elevation) * math.cos(azimuth),
                                   -math.cos(elevation) * math.sin(azimuth), -math.sin(elevation)),
                        diffuse=float(rng.uniform(0.35, 0.85)), ambient=float(rng.uniform(0.1, 0.4)))
    return SceneSpec(seed=seed_value, objects=tuple(objects), camera=camera,
                     intrinsics=intrinsics or CameraIntrinsics.realsense_d435(),
                     lighting=lighting, table_rgba=_colour(rng, saturation=(0.0, 0.4), value=(0.25, 0.9)))
