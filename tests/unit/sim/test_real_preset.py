"""The `real` scene preset: a board on a table with its edges, floor and clutter in view, cameras
0.4-1.2 m away and tilted up to 30°, structured-light depth, varied exposure; labels still physics-checked."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mtf_grasp.sim import SceneRenderer, SimScene, label_scene, random_scene
from mtf_grasp.sim.generator import scene_seed
from mtf_grasp.sim.sensor_noise import DISPARITY_STEP, SensorStyle, noisy_depth, noisy_rgb
from mtf_grasp.sim.shapes import ALL_CATEGORY_NAMES, CATEGORY_NAMES

SEEDS = range(60)


def _view(spec):
    """(distance to the look-at point on the table, tilt from vertical in degrees)."""
    axis = np.asarray(spec.camera.rotation)[:, 2]          # optical axis in the world
    eye = np.asarray(spec.camera.position)
    distance = -eye[2] / axis[2]
    return distance, math.degrees(math.acos(-axis[2]))


def test_real_scenes_vary_camera_and_surroundings_within_the_preset():
    specs = [random_scene(s, preset='real') for s in SEEDS]
    views = np.array([_view(s) for s in specs])
    assert 0.4 <= views[:, 0].min() < 0.6 and 1.0 < views[:, 0].max() <= 1.2
    assert views[:, 1].max() <= 30.0 + 1e-6 and views[:, 1].max() > 20.0
    assert all(len(s.surroundings) >= 2 for s in specs)                  # table and floor at least
    assert all(s.table_size[0] <= 0.3 and s.table_size[2] <= 0.015 for s in specs)   # the board
    assert {s.sensor.structured_light for s in specs} == {True, False}
    assert {o.category for s in specs for o in s.objects} - set(CATEGORY_NAMES)    # the new shapes appear
    assert all(s.categories == ALL_CATEGORY_NAMES for s in specs)
    assert random_scene(3, preset='real') == random_scene(3, preset='real')


def test_tabletop_preset_is_the_original_scene():
    spec = random_scene(3)
    assert spec.surroundings == () and spec.table_size == (0.6, 0.6, 0.02) and spec.sensor == SensorStyle()
    assert 0.42 <= _view(spec)[0] <= 0.52
    with pytest.raises(ValueError, match='preset'):
        random_scene(3, preset='studio')


def test_unknown_preset_is_refused_before_anything_is_written(tmp_path):
    from mtf_grasp.errors import InputError
    from mtf_grasp.sim import generate_dataset
    with pytest.raises(InputError, match="--preset: 'studio' is not one of tabletop, real"):
        generate_dataset(tmp_path / 'out', scenes=1, seed=0, preset='studio')
    assert not (tmp_path / 'out').exists()


def test_board_edge_is_a_depth_step_in_the_rendered_frame():
    spec = next(s for s in (random_scene(seed, preset='real') for seed in SEEDS) if _view(s)[0] > 0.9)
    with SceneRenderer(SimScene(spec)) as renderer:
        depth = renderer.render().depth
    # beyond the board the table is 2 x board thickness lower, the floor much lower: depth spreads
    # far past the board's own range at this camera distance
    assert float(np.percentile(depth, 99) - np.percentile(depth, 1)) > 0.1


def test_structured_light_depth_steps_grow_with_distance_and_edges_fly():
    depth = np.full((96, 128), 1.2, np.float32)
    depth[30:60, 40:80] = 1.1
    noisy = noisy_depth(depth, np.random.default_rng(0), style=SensorStyle(structured_light=True))
    far = noisy[5:25, 5:120]
    levels = np.unique(far[far > 0])
    assert np.min(np.diff(levels)) > 0.8 * DISPARITY_STEP * 1.2 ** 2     # ~4 mm steps at 1.2 m, not 1 mm
    ring = np.zeros_like(depth, bool)
    ring[30, 41:79] = ring[59, 41:79] = True                               # the object's border rows
    between = (noisy[ring] > 1.11) & (noisy[ring] < 1.19)
    assert between.any()                                                   # flying pixels
    plain = noisy_depth(depth, np.random.default_rng(0))
    assert not ((plain[ring] > 1.11) & (plain[ring] < 1.19)).any()


def test_exposure_and_white_balance_change_the_colour_image():
    rgb = np.full((32, 32, 3), 120, np.uint8)
    dark = noisy_rgb(rgb, np.random.default_rng(0), style=SensorStyle(exposure=0.6))
    bright = noisy_rgb(rgb, np.random.default_rng(0), style=SensorStyle(exposure=1.4, white_balance=(1.1, 1.0, 0.9)))
    assert dark.mean() < 100 < 140 < bright.mean()
    assert bright[..., 0].mean() > bright[..., 2].mean() + 10


@pytest.mark.slow
def test_real_scenes_keep_physics_checked_labels():
    labelled = [label_scene(random_scene(scene_seed(1, i, 0), preset='real')) for i in range(3)]
    assert sum(len(s.grasps) for s in labelled) > 0
    assert all(len(s.grasps) <= s.trials for s in labelled)
