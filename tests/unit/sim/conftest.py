"""Shared SimGrasp fixtures: a dataset generated once per test session (3 scenes, in-process)."""
import pytest


@pytest.fixture(scope='session')
def simgrasp_3(tmp_path_factory):
    from mtf_grasp.sim import generate_dataset

    out = tmp_path_factory.mktemp('simgrasp_3')
    generate_dataset(out, scenes=3, seed=0, workers=1, progress=False)
    return out
