"""Label one scene: render it, propose geometric grasps, keep those the physics trial confirms.

Trials see the perfect depth (the geometry is known), while the stored frame gets RealSense-like
noise: the labels are true grasps, the images are what a real camera would deliver.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mtf_grasp.sim.candidates import ImageGrasp, grasp_candidates, to_image
from mtf_grasp.sim.render import Frame, SceneRenderer
from mtf_grasp.sim.scene import SceneSpec
from mtf_grasp.sim.trial import execute_grasp
from mtf_grasp.sim.world import SimScene


@dataclass(frozen=True)
class LabelledScene:
    frame: Frame                    # with sensor noise
    grasps: tuple[ImageGrasp, ...]  # physics-confirmed, in image pixels
    category: int                   # index in spec.categories of the most visible object
    trials: int                     # physics trials run


def _dominant_category(spec: SceneSpec, segmentation: np.ndarray) -> int:
    pixels = np.bincount(segmentation[segmentation >= 0].ravel(), minlength=len(spec.objects))
    return spec.categories.index(spec.objects[int(np.argmax(pixels))].category)


def label_scene(spec: SceneSpec) -> LabelledScene:
    sim = SimScene(spec)
    with SceneRenderer(sim) as renderer:
        clean = renderer.render()
    grasps, candidates = [], grasp_candidates(sim)
    for candidate in candidates:
        grasp = to_image(candidate, intrinsics=spec.intrinsics, camera_pose=spec.camera)
        result = execute_grasp(sim, center_px=(grasp.x, grasp.y), angle=math.radians(grasp.angle_deg),
                               opening_px=grasp.opening_px, depth_image=clean.depth)
        inside = 0 <= grasp.x < spec.intrinsics.width and 0 <= grasp.y < spec.intrinsics.height
        if result.success and result.object_index == candidate.object_index and inside:
            grasps.append(grasp)
    return LabelledScene(frame=clean.with_sensor_noise(np.random.default_rng(spec.seed), spec.sensor),
                         grasps=tuple(grasps), category=_dominant_category(spec, clean.segmentation),
                         trials=len(candidates))
