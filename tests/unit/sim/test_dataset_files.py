"""Generated SimGrasp files parse in the agreed format (parsed here, independently of the loader)."""
import json
import re

import cv2
import numpy as np

from mtf_grasp.sim import CATEGORY_NAMES, generate_dataset

LINE = re.compile(r'^(-?\d+\.\d+);(-?\d+\.\d+);(-?\d+\.\d+);(\d+\.\d+);(\d+\.\d+)$')


def test_every_sample_has_rgb_metric_depth_and_grasp_lines(simgrasp_3):
    names = sorted(p.name[:-len('_grasps.txt')] for p in simgrasp_3.glob('*_grasps.txt'))
    assert names == ['scene00000_0', 'scene00001_0', 'scene00002_0']
    for name in names:
        rgb = cv2.imread(str(simgrasp_3 / f'{name}_RGB.png'), cv2.IMREAD_UNCHANGED)
        depth = cv2.imread(str(simgrasp_3 / f'{name}_perfect_depth.tiff'), cv2.IMREAD_UNCHANGED)
        assert rgb.shape == (480, 640, 3) and rgb.dtype == np.uint8
        assert depth.shape == (480, 640) and depth.dtype == np.float32
        valid = depth[depth > 0]
        assert 0.3 < np.median(valid) < 0.7 and valid.size > 0.8 * depth.size
        lines = (simgrasp_3 / f'{name}_grasps.txt').read_text().splitlines()
        assert lines
        for line in lines:
            x, y, angle, opening, jaw = map(float, LINE.match(line).groups())
            assert 0 <= x < 640 and 0 <= y < 480
            assert -90 < angle <= 90
            assert 10 < opening < 200 and 10 < jaw < 60
            assert depth[int(y), int(x)] == 0 or depth[int(y), int(x)] < np.median(valid)


def test_categories_camera_and_manifest(simgrasp_3):
    categories = json.loads((simgrasp_3 / 'categories.json').read_text())
    assert categories['categories'] == list(CATEGORY_NAMES) and len(CATEGORY_NAMES) >= 6
    assert set(categories['samples']) == {'scene00000_0', 'scene00001_0', 'scene00002_0'}
    assert all(0 <= c < len(CATEGORY_NAMES) for c in categories['samples'].values())
    camera = json.loads((simgrasp_3 / 'camera.json').read_text())
    assert camera == {'fx': 615.0, 'fy': 615.0, 'cx': 319.5, 'cy': 239.5, 'width': 640, 'height': 480}
    manifest = json.loads((simgrasp_3 / 'manifest.json').read_text())
    assert manifest['seed'] == 0 and manifest['scenes'] == 3 and manifest['version'] >= 1
    total = sum(len((simgrasp_3 / f'{n}_grasps.txt').read_text().splitlines()) for n in categories['samples'])
    assert manifest['grasps'] == total


def test_same_seed_gives_the_same_sample_files(simgrasp_3, tmp_path):
    generate_dataset(tmp_path, scenes=1, seed=0, workers=1, progress=False)
    for suffix in ('_RGB.png', '_perfect_depth.tiff', '_grasps.txt'):
        name = f'scene00000_0{suffix}'
        assert (tmp_path / name).read_bytes() == (simgrasp_3 / name).read_bytes(), name


def test_regenerating_the_same_dataset_in_place_is_allowed(simgrasp_3):
    before = {p.name: p.read_bytes() for p in simgrasp_3.iterdir()}
    generate_dataset(simgrasp_3, scenes=3, seed=0, workers=1, progress=False)
    assert {p.name: p.read_bytes() for p in simgrasp_3.iterdir()} == before
