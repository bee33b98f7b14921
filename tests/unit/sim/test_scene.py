"""Scenes are reproducible from their seed; the camera geometry is metric and consistent."""
from dataclasses import replace

import numpy as np
import pytest

from mtf_grasp.sim import CATEGORY_NAMES, ObjectSpec, Part, SceneRenderer, SimScene, random_scene


def test_same_seed_same_scene_and_different_seed_differs():
    assert random_scene(7) == random_scene(7)
    assert random_scene(7) != random_scene(8)


def test_settling_and_rendering_repeat_exactly():
    a, b = SimScene(random_scene(3)), SimScene(random_scene(3))
    np.testing.assert_array_equal(a.data.qpos, b.data.qpos)
    with SceneRenderer(a) as ra, SceneRenderer(b) as rb:
        fa, fb = ra.render(sensor_noise=True), rb.render(sensor_noise=True)
    np.testing.assert_array_equal(fa.rgb, fb.rgb)
    np.testing.assert_array_equal(fa.depth, fb.depth)


def test_scenes_draw_one_to_four_objects_of_known_categories():
    counts = [len(random_scene(s).objects) for s in range(40)]
    assert min(counts) == 1 and max(counts) == 4
    categories = {o.category for s in range(40) for o in random_scene(s).objects}
    assert len(categories) >= 6 and categories <= set(CATEGORY_NAMES)


def test_depth_of_an_empty_table_is_the_metric_distance_to_the_table():
    spec = random_scene(11, n_objects=0)
    with SceneRenderer(SimScene(spec)) as renderer:
        frame = renderer.render()
    position, optical_axis = np.asarray(spec.camera.position), np.asarray(spec.camera.rotation)[:, 2]
    expected = -position[2] / optical_axis[2]     # ray along the optical axis meets z = 0
    intr = spec.intrinsics
    centre = frame.depth[int(intr.cy), int(intr.cx)]
    assert centre == pytest.approx(expected, abs=1e-3)
    # every pixel deprojects onto the table plane
    v, u = np.mgrid[0:intr.height:37, 0:intr.width:41]
    points = spec.camera.to_world(intr.deproject(u, v, frame.depth[v, u]))
    np.testing.assert_allclose(points[..., 2], 0.0, atol=1e-3)
    assert (frame.segmentation == -1).all()


def test_object_pixels_are_above_the_table_and_segmented():
    spec = random_scene(5, n_objects=2)
    sim = SimScene(spec)
    with SceneRenderer(sim) as renderer:
        frame = renderer.render()
    rows, cols = np.nonzero(frame.segmentation >= 0)
    assert rows.size > 500
    points = spec.camera.to_world(spec.intrinsics.deproject(cols, rows, frame.depth[rows, cols]))
    assert np.median(points[:, 2]) > 0.005
    # each object's centre projects near pixels that belong to it
    for index in range(2):
        u, v = spec.intrinsics.project(spec.camera.to_camera(sim.object_position(index)))
        if 0 <= u < spec.intrinsics.width and 0 <= v < spec.intrinsics.height:
            patch = frame.segmentation[max(int(v) - 25, 0):int(v) + 25, max(int(u) - 25, 0):int(u) + 25]
            assert (patch >= 0).any()


@pytest.mark.parametrize('seed', [0, 1])
def test_intrinsics_and_pose_project_a_point_where_it_is_rendered(seed):
    """A 2 cm tile: its rendered silhouette centre is where camera.json's model projects it."""
    tile = ObjectSpec(category='plate', parts=(Part('box', (0.01, 0.01, 0.001), (0, 0, 0.001)),),
                      position=(0.03, -0.02, 0.0005), yaw=0.3, rgba=(1, 1, 1, 1))
    spec = replace(random_scene(seed), objects=(tile,))
    sim = SimScene(spec)
    with SceneRenderer(sim) as renderer:
        frame = renderer.render()
    rows, cols = np.nonzero(frame.segmentation == 0)
    top_centre = sim.object_position(0) + [0.0, 0.0, 0.002]
    u, v = spec.intrinsics.project(spec.camera.to_camera(top_centre))
    assert cols.mean() == pytest.approx(u, abs=0.3) and rows.mean() == pytest.approx(v, abs=0.3)
