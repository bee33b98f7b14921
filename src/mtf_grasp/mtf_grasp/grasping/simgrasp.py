"""SimGrasp, the built-in synthetic dataset: the Jacquard layout plus categories.json
({"categories": [...], "samples": {name: index}}) and camera.json (intrinsics)."""
from __future__ import annotations

from pathlib import Path

from mtf_grasp.configfile import load_json_object
from mtf_grasp.errors import InputError
from mtf_grasp.grasping.jacquard import GRASPS_SUFFIX, jacquard_files
from mtf_grasp.grasping.sample_files import SampleFiles

CATEGORIES_FILE = 'categories.json'
CAMERA_FILE = 'camera.json'


def read_camera(root: Path) -> dict | None:
    path = root / CAMERA_FILE
    return load_json_object(path) if path.is_file() else None


def find_simgrasp(root: Path) -> tuple[list[SampleFiles], list[str]]:
    path = root / CATEGORIES_FILE
    data = load_json_object(path)
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
