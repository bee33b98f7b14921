"""Writers of small grasp datasets in the real Cornell, Jacquard and SimGrasp formats (test data)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np

from mtf_grasp.grasping import GraspRect

TABLE_M = 0.6
BOX_HEIGHT_M = 0.05


def synthetic_scene(rng: np.random.Generator, *, width: int = 640, height: int = 480, boxes: int = 2):
    """A top-down table with a few boxes: (rgb, depth, grasps across each box's short side)."""
    rgb = np.full((height, width, 3), (90, 110, 90), np.uint8)
    depth = np.full((height, width), TABLE_M, np.float32)
    grasps = []
    side = min(width, height)
    x0, y0 = (width - side) // 2, (height - side) // 2
    for _ in range(boxes):
        long_px, short_px = rng.uniform(60, 110), rng.uniform(25, 40)
        cx, cy = x0 + rng.uniform(0.25, 0.75) * side, y0 + rng.uniform(0.25, 0.75) * side
        turn = rng.uniform(-math.pi / 2, math.pi / 2)
        body = GraspRect(cx=cx, cy=cy, angle=turn, length=long_px, jaw=short_px)
        poly = np.round(body.corners()).astype(np.int32)
        cv2.fillConvexPoly(rgb, poly, tuple(int(c) for c in rng.integers(120, 255, 3)))
        cv2.fillConvexPoly(depth, poly, TABLE_M - BOX_HEIGHT_M)
        grasps.append(GraspRect(cx=cx, cy=cy, angle=turn + math.pi / 2, length=short_px * 1.6, jaw=short_px * 0.6))
    return rgb, depth, grasps


def write_png(path: Path, rgb: np.ndarray) -> None:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def write_tiff(path: Path, depth: np.ndarray) -> None:
    assert cv2.imwrite(str(path), depth.astype(np.float32))


def write_jacquard_sample(folder: Path, name: str, rgb, depth, grasps, *, depth_kind: str = 'perfect') -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_png(folder / f'{name}_RGB.png', rgb)
    write_tiff(folder / f'{name}_{depth_kind}_depth.tiff', depth)
    lines = [';'.join(f'{v:.4f}' for v in g.to_jacquard()) for g in grasps]
    (folder / f'{name}_grasps.txt').write_text('\n'.join(lines) + '\n')


def write_cornell_sample(folder: Path, number: int, rgb, depth, grasps, *, pointcloud_only: bool = False) -> None:
    """pcdNNNNr.png, pcdNNNNcpos.txt and either pcdNNNNd.tiff or an ASCII pcdNNNN.txt (millimetres)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f'pcd{number:04d}'
    write_png(folder / f'{stem}r.png', rgb)
    corners = '\n'.join(f'{x:.3f} {y:.3f}' for g in grasps for x, y in g.corners())
    (folder / f'{stem}cpos.txt').write_text(corners + '\n')
    if not pointcloud_only:
        write_tiff(folder / f'{stem}d.tiff', depth)
        return
    height, width = depth.shape
    rows, cols = np.nonzero(depth > 0)
    # Points straight down the optical axis at each pixel: distance = depth, in millimetres.
    header = ['# .PCD v.7 - Point Cloud Data file format', 'FIELDS x y z rgb index', 'SIZE 4 4 4 4 4',
              'TYPE F F F F U', 'COUNT 1 1 1 1 1', f'WIDTH {len(rows)}', 'HEIGHT 1',
              'VIEWPOINT 0 0 0 1 0 0 0', f'POINTS {len(rows)}', 'DATA ascii']
    body = [f'0 0 {depth[r, c] * 1000:.3f} 0 {r * width + c}' for r, c in zip(rows, cols)]
    (folder / f'{stem}.txt').write_text('\n'.join(header + body) + '\n')


def write_simgrasp(root: Path, scenes: int, *, seed: int = 0, width: int = 640, height: int = 480) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    categories = ['box', 'bar']
    samples = {}
    for k in range(scenes):
        name = f'{k:04d}_0'
        rgb, depth, grasps = synthetic_scene(rng, width=width, height=height)
        write_jacquard_sample(root, name, rgb, depth, grasps)
        samples[name] = k % 2
    (root / 'categories.json').write_text(json.dumps({'categories': categories, 'samples': samples}))
    (root / 'camera.json').write_text(json.dumps({'fx': 600.0, 'fy': 600.0, 'cx': width / 2, 'cy': height / 2,
                                                  'width': width, 'height': height}))
    return root


