"""A small SimGrasp-layout dataset with three categories, the quick model spec, and robots over it (test data)."""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import cv2
import numpy as np
import torch

from mtf_grasp.federated import RobotProfile
from mtf_grasp.federated.config import experiment_from_mapping
from mtf_grasp.grasping import GraspRect, ModelSpec, open_dataset

SIZE = 96
CATEGORIES = ['block', 'bar', 'disc']
QUICK_SPEC = ModelSpec(arch='ggcnn2', channels='depth', input_size=32)


def _scene(rng: np.random.Generator, category: int):
    rgb = np.full((SIZE, SIZE, 3), 100, np.uint8)
    depth = np.full((SIZE, SIZE), 0.6, np.float32)
    cx, cy = rng.uniform(0.35, 0.65, 2) * SIZE
    turn = rng.uniform(-math.pi / 2, math.pi / 2)
    long_px, short_px = {0: (30, 22), 1: (40, 10), 2: (24, 24)}[category]
    body = GraspRect(cx=cx, cy=cy, angle=turn, length=long_px, jaw=short_px)
    polygon = np.round(body.corners()).astype(np.int32)
    cv2.fillConvexPoly(rgb, polygon, (200, 60 + 60 * category, 90))
    cv2.fillConvexPoly(depth, polygon, 0.55)
    grasp = GraspRect(cx=cx, cy=cy, angle=turn + math.pi / 2, length=short_px * 1.6, jaw=short_px * 0.6)
    return rgb, depth, [grasp]


def write_dataset(root: Path, scenes: int, *, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    categories = {}
    for k in range(scenes):
        name, category = f'{k:04d}_{k % 3}', k % 3
        rgb, depth, grasps = _scene(rng, category)
        assert cv2.imwrite(str(root / f'{name}_RGB.png'), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        assert cv2.imwrite(str(root / f'{name}_perfect_depth.tiff'), depth)
        lines = [';'.join(f'{v:.4f}' for v in g.to_jacquard()) for g in grasps]
        (root / f'{name}_grasps.txt').write_text('\n'.join(lines) + '\n')
        categories[name] = category
    (root / 'categories.json').write_text(json.dumps({'categories': CATEGORIES, 'samples': categories}))
    (root / 'camera.json').write_text(json.dumps({'fx': 90.0, 'fy': 90.0, 'cx': SIZE / 2, 'cy': SIZE / 2,
                                                  'width': SIZE, 'height': SIZE}))
    return root




def tiny_fleet(tiny_simgrasp: Path, sizes, *, federation: dict, defences: dict):
    """Robots `robot_0`… holding consecutive runs of `sizes` scenes of the tiny set, and the quick
    model's experiment config over them: (dataset, indices, profiles, config)."""
    torch.set_num_threads(1)
    dataset = open_dataset(tiny_simgrasp, spec=QUICK_SPEC)
    starts = [0, *itertools.accumulate(sizes)]
    indices = {f'robot_{r}': list(range(starts[r], starts[r + 1])) for r in range(len(sizes))}
    profiles = [RobotProfile(rid, len(ix), (len(ix),)) for rid, ix in indices.items()]
    config = experiment_from_mapping({
        'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32}, 'data': {'root': str(tiny_simgrasp)},
        'partition': {'robots': len(sizes)}, 'federation': federation, 'defences': defences}, 'test')
    return dataset, indices, profiles, config
