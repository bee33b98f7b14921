"""A Cornell, Jacquard or SimGrasp folder as a rosbag2 of camera frames with ground truth."""
from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from mtf_grasp.bags.rgbd_writer import RgbdBagWriter
from mtf_grasp.errors import InputError
from mtf_grasp.perception import nominal_intrinsics
from mtf_grasp.perception.intrinsics import CameraIntrinsics

START_NS = 1_700_000_000 * 1_000_000_000    # a fixed, plausible wall-clock start: bags are reproducible


def dataset_intrinsics(camera: dict | None, *, width: int, height: int) -> CameraIntrinsics:
    """SimGrasp's camera.json, or a nominal pinhole for layouts that publish no calibration."""
    if camera is None:
        return nominal_intrinsics(width=width, height=height)
    try:
        return CameraIntrinsics(fx=float(camera['fx']), fy=float(camera['fy']), cx=float(camera['cx']),
                                cy=float(camera['cy']), width=width, height=height)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f'camera.json: needs numeric fx, fy, cx, cy ({exc})') from None


def write_dataset_bag(root: str | Path, out: str | Path, *, storage: str = 'mcap', fmt: str = 'auto',
                      period_s: float = 0.1, limit: int | None = None, progress: bool = True) -> dict:
    """One frame per sample, in the dataset's name order, `period_s` apart. Returns a summary
    {"bag", "storage", "format", "frames", "topics"}."""
    from mtf_grasp.grasping import open_dataset

    if period_s <= 0:
        raise InputError(f'--period: must be > 0 s, got {period_s}')
    dataset = open_dataset(root, fmt=fmt)
    count = len(dataset) if limit is None else min(limit, len(dataset))
    with RgbdBagWriter(out, storage=storage) as bag:
        for i in tqdm(range(count), desc='writing bag', unit='frame', disable=not progress):
            sample = dataset.sample(i)
            height, width = sample.depth.shape
            bag.write(stamp_ns=START_NS + round(i * period_s * 1e9), rgb=sample.rgb, depth_m=sample.depth,
                      intrinsics=dataset_intrinsics(dataset.camera, width=width, height=height),
                      grasps=dataset.source_rects(i))
    return {'bag': str(out), 'storage': storage, 'format': dataset.format, 'frames': bag.frames,
            'topics': sorted(f'/{t}' for t in bag.topics)}
