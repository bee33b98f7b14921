"""Physics grasp trials: across a box's short side it lifts; too narrow or in empty space it fails."""
import math
from dataclasses import replace

import numpy as np
import pytest

from mtf_grasp.sim import (GripperPose, ObjectSpec, Part, SceneRenderer, SimScene, execute_grasp,
                           random_scene, run_trial)

BOX_HALF = (0.02, 0.05, 0.03)   # 4 cm across x, 10 cm along y, 6 cm tall


@pytest.fixture(scope='module')
def box_scene():
    box = ObjectSpec(category='box', parts=(Part('box', BOX_HALF, (0.0, 0.0, BOX_HALF[2])),),
                     position=(0.0, 0.0, 0.002), yaw=0.0, rgba=(0.8, 0.1, 0.1, 1.0))
    sim = SimScene(replace(random_scene(0), objects=(box,)))
    with SceneRenderer(sim) as renderer:
        frame = renderer.render()
    return sim, frame


def _image_grasp(sim, *, centre, direction, opening):
    """The image grasp (pixel centre, image angle, opening px) of a world-space grasp."""
    spec = sim.spec
    pts = np.array([centre, np.asarray(centre) + 0.01 * np.asarray(direction)])
    (u, v), (u2, v2) = spec.intrinsics.project(spec.camera.to_camera(pts))
    return (u, v), math.atan2(v2 - v, u2 - u), opening / 0.01 * math.hypot(u2 - u, v2 - v)


def test_grasp_across_the_short_side_lifts_the_box(box_scene):
    sim, frame = box_scene
    centre, angle, opening_px = _image_grasp(sim, centre=(0, 0, 0.06), direction=(1, 0, 0), opening=0.06)
    result = execute_grasp(sim, center_px=centre, angle=angle, opening_px=opening_px, depth_image=frame.depth)
    assert result.success, result
    assert result.reason == 'lifted' and result.object_index == 0
    assert result.lift_height_m > 0.1


def test_grasp_along_the_long_side_is_blocked(box_scene):
    sim, frame = box_scene
    centre, angle, opening_px = _image_grasp(sim, centre=(0, 0, 0.06), direction=(0, 1, 0), opening=0.06)
    result = execute_grasp(sim, center_px=centre, angle=angle, opening_px=opening_px, depth_image=frame.depth)
    assert not result.success and result.reason == 'blocked'


def test_grasp_in_empty_space_fails(box_scene):
    sim, frame = box_scene
    centre, angle, opening_px = _image_grasp(sim, centre=(0.12, 0.0, 0.0), direction=(1, 0, 0), opening=0.06)
    result = execute_grasp(sim, center_px=centre, angle=angle, opening_px=opening_px, depth_image=frame.depth)
    assert not result.success and result.reason == 'no_contact'
    assert result.lift_height_m == 0.0


def test_no_depth_at_the_centre_is_reported(box_scene):
    sim, frame = box_scene
    result = execute_grasp(sim, center_px=(320, 240), angle=0.0, opening_px=50,
                           depth_image=np.zeros_like(frame.depth))
    assert not result.success and result.reason == 'no_depth'


def test_trials_start_from_the_same_settled_state(box_scene):
    sim, _ = box_scene
    pose = GripperPose(position=(0.0, 0.0, 0.04), yaw=0.0, opening=0.06)
    first, second = run_trial(sim, pose), run_trial(sim, pose)
    assert first == second and first.success
