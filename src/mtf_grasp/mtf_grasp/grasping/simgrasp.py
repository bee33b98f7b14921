"""SimGrasp, the built-in synthetic dataset: the Jacquard layout plus categories.json
({"categories": [...], "samples": {name: index}}) and camera.json (intrinsics)."""
from __future__ import annotations

import json
from pathlib import Path

from mtf_grasp.errors import InputError
from mtf_grasp.grasping.jacquard import GRASPS_SUFFIX, jacquard_files
from mtf_grasp.grasping.sample_files import SampleFiles

CATEGORIES_FILE = 'categories.json'
CAMERA_FILE = 'camera.json'


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f'{path}: missing') from None
    except json.JSONDecodeError as exc:
        raise InputError(f'{path}:{exc.lineno}: invalid JSON ({exc.msg})') from None
    if not isinstance(data, dict):
        raise InputError(f'{path}: expected a JSON object')
    return data


def read_camera(root: Path) -> dict | None:
    path = root / CAMERA_FILE
    return _read_json(path) if path.is_file() else None


def find_simgrasp(root: Path) -> tuple[list[SampleFiles], list[str]]:
    path = root / CATEGORIES_FILE
    data = _read_json(path)
    categories, by_sample = data.get('categories'), data.get('samples')
    if not isinstance(categories, list) or not isinstance(by_sample, dict):
        raise InputError(f'{path}: expected {{"categories": [...], "samples": {{name: index}}}}')
    samples = []
    for grasps in sorted(root.glob(f'*{GRASPS_SUFFIX}')):
        name = grasps.name[:-len(GRASPS_SUFFIX)]
        category = by_sample.get(name)
        if not isinstance(category, int) or not 0 <= category < len(categories):
            raise InputError(f'{path}: samples.{name}: {category!r} is not a category index '
                             f'(0..{len(categories) - 1})')
        samples.append(jacquard_files(grasps, stereo_depth=False, category=category))
    return samples, [str(c) for c in categories]
