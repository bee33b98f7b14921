"""The Cornell grasping layout: pcdXXXXr.png, pcdXXXXd.tiff (or the pcdXXXX.txt point cloud),
pcdXXXXcpos.txt with four "x y" corner lines per rectangle."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mtf_grasp.grasping.rect import GraspRect
from mtf_grasp.grasping.sample_files import SampleError, SampleFiles, parse_floats, read_depth_tiff

# Cornell point clouds are in millimetres; anything this far away must be millimetres too.
_MAX_METRES = 20.0


def find_cornell(root: Path) -> tuple[list[SampleFiles], None]:
    samples = []
    for grasps in sorted(root.rglob('pcd*cpos.txt')):
        stem = grasps.name[:-len('cpos.txt')]
        folder = grasps.parent
        samples.append(SampleFiles(name=stem, rgb=folder / f'{stem}r.png', grasps=grasps,
                                   depth=folder / f'{stem}d.tiff', pointcloud=folder / f'{stem}.txt'))
    return samples, None


def read_cornell_rects(path: Path) -> list[GraspRect]:
    """Rectangles from a cpos file; rectangles with a NaN corner are skipped, as usual for Cornell."""
    lines = [(i, t) for i, t in enumerate(path.read_text().splitlines(), start=1) if t.strip()]
    if len(lines) % 4:
        raise SampleError(path, f'{len(lines)} corner lines is not a multiple of 4', line=lines[-1][0])
    rects = []
    for k in range(0, len(lines), 4):
        pts = [parse_floats(t, 2, sep=None, path=path, line=i, expected='x y') for i, t in lines[k:k + 4]]
        if any(math.isnan(v) for p in pts for v in p):
            continue
        rects.append(GraspRect.from_corners(pts))
    return rects


def read_cornell_depth(files: SampleFiles, shape: tuple[int, int]) -> np.ndarray:
    """The depth TIFF if there is one, else depth (distance from the camera) from the point cloud."""
    if files.depth is not None and files.depth.is_file():
        return read_depth_tiff(files.depth)
    if files.pointcloud is None or not files.pointcloud.is_file():
        raise SampleError(files.depth, 'missing depth file (and no point cloud to compute it from)')
    return depth_from_pointcloud(files.pointcloud, shape)


def depth_from_pointcloud(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Rasterise an ASCII PCD (fields include x y z and index = row·width + col) into an H×W image
    of Euclidean distance in metres; pixels without a point stay 0 (a hole)."""
    fields, data_start = None, None
    lines = path.read_text().splitlines()
    for number, text in enumerate(lines, start=1):
        words = text.split()
        if words and words[0] == 'FIELDS':
            fields = words[1:]
        elif words and words[0] == 'DATA':
            if words[1:] != ['ascii']:
                raise SampleError(path, f'only ASCII point clouds are supported, got {text!r}', line=number)
            data_start = number
            break
    if fields is None or data_start is None or not {'x', 'y', 'z', 'index'} <= set(fields):
        raise SampleError(path, 'not a PCD point cloud with FIELDS x y z ... index and DATA ascii')
    cols = [fields.index(f) for f in ('x', 'y', 'z', 'index')]
    rows = []
    for number in range(data_start, len(lines)):
        text = lines[number]
        if text.strip():
            values = parse_floats(text, len(fields), sep=None, path=path, line=number + 1,
                                  expected=' '.join(fields))
            rows.append([values[c] for c in cols])
    height, width = shape
    depth = np.zeros(height * width, np.float32)
    if rows:
        pts = np.asarray(rows, np.float64)
        index = pts[:, 3].astype(np.int64)
        if index.min() < 0 or index.max() >= height * width:
            raise SampleError(path, f'point index {int(index.max())} outside a {width}x{height} image')
        dist = np.linalg.norm(pts[:, :3], axis=1)
        if np.median(dist) > _MAX_METRES:
            dist = dist / 1000.0
        depth[index] = dist
    return depth.reshape(height, width)
