"""Scenes for picking: a random table-top scene seen by a camera mounted at the calibrated
extrinsics relative to the arm base, so the camera, the grasp poses and the arm agree.

`random_scene` jitters the camera per scene (good for a dataset); a robot's camera is bolted in
place and calibrated once, so pick scenes keep the objects of `random_scene(seed)` and replace its
camera with the mount. The floating-hand trial can run on the same specs for comparison.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from mtf_grasp.perception.extrinsics import CameraExtrinsics
from mtf_grasp.sim.arm import BASE_POSITION
from mtf_grasp.sim.camera import CameraPose
from mtf_grasp.sim.scene import SceneSpec, random_scene


def mounted_camera(extrinsics: CameraExtrinsics) -> CameraPose:
    """World <- camera optical frame, for a camera at `extrinsics` from the arm base."""
    rotation = extrinsics.rotation_matrix       # the base frame has the world's axes
    position = np.asarray(BASE_POSITION) + np.asarray(extrinsics.camera_translation)
    return CameraPose(position=tuple(map(float, position)), rotation=tuple(tuple(map(float, r)) for r in rotation))


def pick_scene(seed: int, *, extrinsics: CameraExtrinsics, n_objects: int | None = None) -> SceneSpec:
    """The objects, lighting and colours of `random_scene(seed)`, seen from the mounted camera."""
    return replace(random_scene(seed, n_objects=n_objects), camera=mounted_camera(extrinsics))
