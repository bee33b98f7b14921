"""Dataset fixtures written in the real on-disk formats: PNG, float32 TIFF, grasp text files."""
from __future__ import annotations

from pathlib import Path

import pytest

from grasp_files import write_simgrasp


@pytest.fixture(scope='session')
def simgrasp_small(tmp_path_factory) -> Path:
    """24 synthetic scenes at 160×120 in the SimGrasp layout (shared, read-only)."""
    return write_simgrasp(tmp_path_factory.mktemp('simgrasp') / 'data', 24, width=160, height=120)
