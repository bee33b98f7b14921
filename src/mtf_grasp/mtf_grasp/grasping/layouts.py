"""The three dataset layouts behind one interface, and detecting which one a folder holds."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from mtf_grasp.errors import InputError
from mtf_grasp.grasping.cornell import find_cornell, read_cornell_depth, read_cornell_rects
from mtf_grasp.grasping.jacquard import GRASPS_SUFFIX, find_jacquard, read_jacquard_rects
from mtf_grasp.grasping.rect import GraspRect
from mtf_grasp.grasping.sample_files import SampleFiles, read_depth_tiff
from mtf_grasp.grasping.simgrasp import CATEGORIES_FILE, find_simgrasp

FORMATS = ('cornell', 'jacquard', 'simgrasp')


@dataclass(frozen=True)
class Layout:
    name: str
    find: Callable[..., tuple[list[SampleFiles], list[str] | None]]   # (root, stereo_depth) -> samples, categories
    read_rects: Callable[[Path], list[GraspRect]]
    read_depth: Callable[[SampleFiles, tuple[int, int]], np.ndarray]


def _tiff_depth(files: SampleFiles, shape: tuple[int, int]) -> np.ndarray:
    return read_depth_tiff(files.depth)


LAYOUTS = {
    'cornell': Layout('cornell', lambda root, stereo: find_cornell(root), read_cornell_rects, read_cornell_depth),
    'jacquard': Layout('jacquard', lambda root, stereo: find_jacquard(root, stereo_depth=stereo),
                       read_jacquard_rects, _tiff_depth),
    'simgrasp': Layout('simgrasp', lambda root, stereo: find_simgrasp(root), read_jacquard_rects, _tiff_depth),
}


def detect_format(root: Path) -> str:
    """categories.json => simgrasp; *_grasps.txt => jacquard; pcd*cpos.txt => cornell."""
    if (root / CATEGORIES_FILE).is_file():
        return 'simgrasp'
    if next(root.rglob(f'*{GRASPS_SUFFIX}'), None) is not None:
        return 'jacquard'
    if next(root.rglob('pcd*cpos.txt'), None) is not None:
        return 'cornell'
    raise InputError(f'{root}: no Cornell (pcd*cpos.txt), Jacquard (*_grasps.txt) or SimGrasp '
                     f'({CATEGORIES_FILE}) files found')


def resolve_layout(root: str | Path, fmt: str) -> tuple[Path, Layout]:
    root = Path(root)
    if not root.is_dir():
        raise InputError(f'{root}: no such dataset directory')
    if fmt == 'auto':
        fmt = detect_format(root)
    if fmt not in LAYOUTS:
        raise InputError(f'format {fmt!r} is not one of auto, {", ".join(FORMATS)}')
    return root, LAYOUTS[fmt]
