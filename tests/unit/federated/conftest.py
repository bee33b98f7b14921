"""A small SimGrasp-layout dataset written in the real formats (PNG, float32 TIFF, grasp text,
categories.json): three object classes, one object per scene, top-down depth."""
from __future__ import annotations

from pathlib import Path

import pytest

from federated_data import write_dataset


@pytest.fixture(scope='session')
def tiny_simgrasp(tmp_path_factory) -> Path:
    """90 scenes, 30 per class (shared, read-only)."""
    return write_dataset(tmp_path_factory.mktemp('fed') / 'simgrasp', 90)
