"""Geometric candidates become image rectangles in the Jacquard convention the loader reads."""
import numpy as np
import pytest

from mtf_grasp.grasping import GraspRect
from mtf_grasp.sim import SimScene, grasp_candidates, random_scene, to_image


@pytest.fixture(scope='module')
def scene():
    return SimScene(random_scene(4))


def test_rectangle_ends_are_where_the_fingers_are_seen(scene):
    spec = scene.spec
    for candidate in grasp_candidates(scene):
        grasp = to_image(candidate, intrinsics=spec.intrinsics, camera_pose=spec.camera)
        assert -90 < grasp.angle_deg <= 90
        rect = GraspRect.from_jacquard(grasp.x, grasp.y, grasp.angle_deg, grasp.opening_px, grasp.jaw_px)
        corners = rect.corners()
        ends = np.stack([(corners[0] + corners[3]) / 2, (corners[1] + corners[2]) / 2])
        fingers = np.stack([candidate.top - candidate.axis * candidate.opening / 2,
                            candidate.top + candidate.axis * candidate.opening / 2])
        seen = spec.intrinsics.project(spec.camera.to_camera(fingers))
        # the rectangle is symmetric: its two ends match the fingers in one order or the other
        error = min(np.abs(ends - seen).max(), np.abs(ends[::-1] - seen).max())
        assert error < 0.5


def test_candidates_are_narrower_than_the_gripper_and_on_objects(scene):
    candidates = grasp_candidates(scene)
    assert candidates
    assert all(0.0 < c.opening <= 0.085 for c in candidates)
    assert {c.object_index for c in candidates} <= set(range(len(scene.spec.objects)))
    assert all(c.top[2] > 0.0 and abs(c.axis[2]) < 1e-9 for c in candidates)
