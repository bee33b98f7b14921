"""Scene specifications: what is on the table, where the camera is, how it is lit.

A `SceneSpec` is plain data drawn from a seed; `SimScene` turns it into a settled MuJoCo world.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass, replace

import numpy as np

from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.sim.camera import CameraPose
from mtf_grasp.sim.sensor_noise import SensorStyle
from mtf_grasp.sim.shapes import ALL_CATEGORY_NAMES, CATEGORY_NAMES, Part, build_parts, footprint_radius, height


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
class StaticBox:
    """A fixed box in the world (half extents `size`): the table under a board, the floor, clutter."""
    size: tuple[float, float, float]
    pos: tuple[float, float, float]
    rgba: tuple[float, float, float, float]


@dataclass(frozen=True)
class SceneSpec:
    seed: int
    objects: tuple[ObjectSpec, ...]
    camera: CameraPose
    intrinsics: CameraIntrinsics
    lighting: Lighting
    table_rgba: tuple[float, float, float, float]
    table_size: tuple[float, float, float] = (0.6, 0.6, 0.02)   # half extents; its top is z = 0
    board_xy: tuple[float, float] = (0.0, 0.0)     # the table's (or board's) centre
    table_texture: str = ''                 # '' plain, or MuJoCo's builtin 'checker' / 'gradient'
    surroundings: tuple[StaticBox, ...] = ()
    sensor: SensorStyle = SensorStyle()
    categories: tuple[str, ...] = CATEGORY_NAMES


@dataclass(frozen=True)
class ScenePreset:
    """What `random_scene` draws. `tabletop` is the original SimGrasp (its datasets regenerate
    bit for bit); `real` aims at what real cameras see and table tops lack (docs/grasp-learning.md)."""
    name: str
    camera_distance_m: tuple[float, float] = (0.42, 0.52)
    max_tilt_deg: float = 10.0
    categories: tuple[str, ...] = CATEGORY_NAMES
    surroundings: bool = False      # objects on a board on a table, floor below, clutter beside the board


PRESETS = {
    'tabletop': ScenePreset('tabletop'),
    'real': ScenePreset('real', camera_distance_m=(0.4, 1.2), max_tilt_deg=30.0, categories=ALL_CATEGORY_NAMES,
                        surroundings=True),
}


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
                 categories: tuple[str, ...] | None = None,
                 intrinsics: CameraIntrinsics | None = None, preset: str = 'tabletop') -> SceneSpec:
    """Draw a cluttered table-top scene: 1-4 objects (or `n_objects`) of `categories` (default: the
    preset's), a camera looking at them from the preset's distance and tilt (tabletop: 0.42-0.52 m,
    up to 10°), random lighting and colours; the `real` preset adds the surroundings and sensor of
    `_surroundings`. Same seed, same scene."""
    if preset not in PRESETS:
        raise ValueError(f'scene preset {preset!r} is not one of {", ".join(PRESETS)}')
    style = PRESETS[preset]
    categories = style.categories if categories is None else categories
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
    tilt, heading = rng.uniform(0.0, math.radians(style.max_tilt_deg)), rng.uniform(0, 2 * math.pi)
    view = np.array([math.sin(tilt) * math.cos(heading), math.sin(tilt) * math.sin(heading),
                     math.cos(tilt)])
    camera = CameraPose.look_at(target + rng.uniform(*style.camera_distance_m) * view, target,
                                roll=float(rng.uniform(-math.pi, math.pi)))
    elevation, azimuth = rng.uniform(math.radians(40), math.radians(90)), rng.uniform(0, 2 * math.pi)
    lighting = Lighting(direction=(-math.cos(elevation) * math.cos(azimuth),
                                   -math.cos(elevation) * math.sin(azimuth), -math.sin(elevation)),
                        diffuse=float(rng.uniform(0.35, 0.85)), ambient=float(rng.uniform(0.1, 0.4)))
    spec = SceneSpec(seed=seed_value, objects=tuple(objects), camera=camera,
                     intrinsics=intrinsics or CameraIntrinsics.realsense_d435(),
                     lighting=lighting, table_rgba=_colour(rng, saturation=(0.0, 0.4), value=(0.25, 0.9)),
                     categories=categories)
    return _surroundings(spec, rng, centre) if style.surroundings else spec


def _surroundings(spec: SceneSpec, rng: np.random.Generator, centre: np.ndarray) -> SceneSpec:
    """The objects stand on a board (0.5-3 cm thick, often white like Cornell's, sometimes textured)
    lying on a larger table, whose edge, the floor 0.4-0.8 m below and (half the time) a wall beyond it
    may be in view; 0-4 fixed boxes stand on the table beside the board; the sensor is Kinect-like structured light or RealSense-like,
    with random exposure and white balance."""
    half = rng.uniform(0.12, 0.3, size=2)
    thick = float(rng.uniform(0.0025, 0.015))
    board_xy = centre + rng.uniform(-0.05, 0.05, size=2)
    white = rng.uniform() < 0.6
    board_rgba = _colour(rng, saturation=(0.0, 0.15), value=(0.8, 1.0)) if white else _colour(rng)
    texture = str(rng.choice(['', '', 'gradient', 'checker']))
    table_half = rng.uniform(0.35, 0.8, size=2)
    slack = np.maximum(table_half - half - 0.02, 0.0)
    table_xy = board_xy + rng.uniform(-slack, slack)
    table_top = -2 * thick
    floor_z = table_top - float(rng.uniform(0.4, 0.8))
    boxes = [StaticBox(size=(*map(float, table_half), 0.02), pos=(*map(float, table_xy), table_top - 0.02),
                       rgba=_colour(rng, saturation=(0.0, 0.5), value=(0.2, 0.8))),
             StaticBox(size=(3.0, 3.0, 0.01), pos=(*map(float, table_xy), floor_z - 0.01),
                       rgba=_colour(rng, saturation=(0.0, 0.4), value=(0.1, 0.7)))]
    if rng.uniform() < 0.5:      # a wall behind one side of the table, from the floor up
        axis, sign = int(rng.integers(0, 2)), float(rng.choice([-1.0, 1.0]))
        rise = float(rng.uniform(0.6, 1.4))
        size, pos = [3.0, 3.0, rise / 2], [*table_xy, floor_z + rise / 2]
        size[axis], pos[axis] = 0.02, pos[axis] + sign * (table_half[axis] + 0.03)
        if sign * (spec.camera.position[axis] - pos[axis]) < -0.05:     # not between the camera and the board
            boxes.append(StaticBox(size=tuple(map(float, size)), pos=tuple(map(float, pos)),
                                   rgba=_colour(rng, saturation=(0.0, 0.3), value=(0.5, 1.0))))
    for _ in range(int(rng.integers(0, 5))):
        size = (*rng.uniform(0.02, 0.08, size=2), rng.uniform(0.01, 0.1))
        xy = table_xy + rng.uniform(-table_half, table_half)
        if np.all(np.abs(xy - board_xy) < half + np.max(size[:2])):
            continue     # would stand on the board, among the objects
        boxes.append(StaticBox(size=tuple(map(float, size)), pos=(*map(float, xy), table_top + float(size[2])),
                               rgba=_colour(rng)))
    exposure = float(rng.uniform(0.6, 1.5))
    sensor = SensorStyle(structured_light=bool(rng.uniform() < 0.5), shadow_px=(2, 9), exposure=exposure,
                         white_balance=tuple(map(float, rng.uniform(0.85, 1.15, size=3))))
    # The board is the 'table' geom (objects stand on its top at z = 0), shifted by board_xy.
    return replace(spec, table_rgba=board_rgba, table_size=(*map(float, half), thick), table_texture=texture,
                   surroundings=tuple(boxes), sensor=sensor, board_xy=tuple(map(float, board_xy)))
