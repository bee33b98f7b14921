"""A tiny Jacquard-layout dataset and fleet/experiment configs for the fleet tests (real files)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import yaml


def write_jacquard_boxes(root: Path, *, samples: int, size: int = 64, seed: int = 0) -> Path:
    """Top-down depth/RGB of one rotated box per image on a table, grasped across its short side."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(samples):
        cx, cy = rng.uniform(0.35, 0.65, 2) * size
        length, width = rng.uniform(0.25, 0.4) * size, rng.uniform(0.08, 0.15) * size
        angle = rng.uniform(-90, 90)
        box = cv2.boxPoints(((cx, cy), (length, width), angle)).astype(np.int32)
        depth = np.full((size, size), 0.6, np.float32)
        cv2.fillPoly(depth, [box], 0.55)
        rgb = np.full((size, size, 3), 200, np.uint8)
        cv2.fillPoly(rgb, [box], tuple(int(c) for c in rng.integers(0, 255, 3)))
        name = f'{i:04d}_obj{i % 5}'  # <view>_<object>: 5 object classes
        cv2.imwrite(str(root / f'{name}_RGB.png'), rgb)
        cv2.imwrite(str(root / f'{name}_perfect_depth.tiff'), depth)
        # Perpendicular to the long side (OpenCV turns it by `angle`, y down), wrapped to [-90°, 90°).
        grasp_angle = (-angle) % 180 - 90
        (root / f'{name}_grasps.txt').write_text(f'{cx:.2f};{cy:.2f};{grasp_angle:.2f};{width * 1.6:.2f};{width:.2f}\n')
    return root


def write_configs(directory: Path, *, data: Path, robots: int = 4, rounds: int = 2,
                  method: str = 'mtf_avg', input_size: int = 32) -> Path:
    """An experiment config and a fleet config running it; returns the fleet config path."""
    experiment = {
        'name': 'fleet-test', 'seed': 3, 'methods': [method], 'torch_threads': 1,
        'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': input_size},
        'data': {'root': str(data), 'labeller': 'angle', 'test_fraction': 0.25},
        'partition': {'robots': robots, 'beta': 0.7, 'min_samples': 4},
        'federation': {'rounds': rounds, 'top_level': 2, 'seed_epochs': 1, 'local_epochs': 1},
        'training': {'lr': 0.001, 'batch_size': 8},
    }
    (directory / 'experiment.yaml').write_text(yaml.safe_dump(experiment))
    fleet = {'experiment': 'experiment.yaml', 'method': method,
             'transport': {'service_timeout_s': 30, 'round_timeout_s': 120, 'registration_timeout_s': 120}}
    path = directory / 'fleet.yaml'
    path.write_text(yaml.safe_dump(fleet))
    return path
