"""Reading the files of one dataset sample, with one-line errors that name the file (and line)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mtf_grasp.errors import InputError


class SampleError(InputError):
    """Bad data in one sample's file; `path` is the file to blame."""

    def __init__(self, path: Path | str, reason: str, *, line: int | None = None):
        self.path = str(path)
        super().__init__(f'{path}{f":{line}" if line else ""}: {reason}')


@dataclass(frozen=True)
class SampleFiles:
    """Where one sample's data lives. `depth` is a float32-metres TIFF; Cornell samples without one
    have `pointcloud` instead."""
    name: str
    rgb: Path
    grasps: Path
    depth: Path | None = None
    pointcloud: Path | None = None
    category: int | None = None

    def check_exist(self) -> None:
        if not self.rgb.is_file():
            raise SampleError(self.rgb, 'missing RGB image')
        depth = self.depth if self.depth is not None and self.depth.is_file() else self.pointcloud
        if depth is None or not depth.is_file():
            raise SampleError(self.depth or self.pointcloud, 'missing depth file')


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SampleError(path, 'unreadable image')
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_depth_tiff(path: Path) -> np.ndarray:
    if not path.is_file():
        raise SampleError(path, 'missing depth file')
    depth = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if depth is None:
        raise SampleError(path, 'unreadable depth image')
    if depth.ndim != 2 or depth.dtype.kind != 'f':
        raise SampleError(path, f'expected a one-channel float depth image, got {depth.dtype} '
                                f'with shape {depth.shape}')
    return depth.astype(np.float32)


def check_same_size(rgb: np.ndarray, depth: np.ndarray, files: SampleFiles) -> None:
    if rgb.shape[:2] != depth.shape[:2]:
        raise SampleError(files.depth or files.pointcloud,
                          f'depth is {depth.shape[1]}x{depth.shape[0]} but {files.rgb.name} is '
                          f'{rgb.shape[1]}x{rgb.shape[0]}')


def parse_floats(text: str, count: int, *, sep: str | None, path: Path, line: int, expected: str) -> list[float]:
    parts = text.split(sep)
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count:
        raise SampleError(path, f'expected {expected!r}, got {text.strip()!r}', line=line)
    return values
