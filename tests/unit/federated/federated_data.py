"""A small SimGrasp-layout dataset with three categories and the quick model spec (test data)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np

from mtf_grasp.grasping import GraspRect, ModelSpec

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


