"""A tiny Jacquard-layout dataset on disk (PNG, float32 TIFF, grasp lines) for the bag tests."""
from __future__ import annotations

import cv2
import numpy as np
import pytest


def write_tiny_jacquard(root, *, samples: int = 3, width: int = 80, height: int = 60):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for k in range(samples):
        name = f'{k}_obj{k % 2}'
        rgb = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        depth = rng.uniform(0.4, 0.6, (height, width)).astype(np.float32)
        assert cv2.imwrite(str(root / f'{name}_RGB.png'), rgb[:, :, ::-1])
        assert cv2.imwrite(str(root / f'{name}_perfect_depth.tiff'), depth)
        lines = [f'{30 + k};{25 + k};{10.0 * k};{20 + k};{8}', f'{50};{30};{-45.0};{16};{6}']
        (root / f'{name}_grasps.txt').write_text('\n'.join(lines) + '\n')
    return root


@pytest.fixture
def tiny_jacquard(tmp_path):
    return write_tiny_jacquard(tmp_path / 'jacquard')
