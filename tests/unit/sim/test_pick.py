"""The simulated arm: IK from MuJoCo Jacobians, and picks that report why they fail."""
import math

import numpy as np
import pytest

from mtf_grasp.perception.pick_pose import PickPose
from mtf_grasp.sim import grasp_candidates, random_scene
from mtf_grasp.sim.arm import LIMITS
from mtf_grasp.sim.arm_scene import DOWN, HOME_POSITION, ArmScene
from mtf_grasp.sim.pick import PHASES, execute_pick


@pytest.fixture(scope='module')
def box_scene():
    return ArmScene(random_scene(5, n_objects=1, categories=('box',)))


def _pick_of(scene: ArmScene, candidate) -> PickPose:
    top = candidate.top - scene.base
    return PickPose(position=(top[0], top[1], max(top[2] - 0.02, 0.003)),
                    yaw=math.atan2(candidate.axis[1], candidate.axis[0]), width_m=candidate.opening)


def test_home_is_top_down_within_limits(box_scene):
    position, rotation = box_scene.tool_pose()
    assert position == pytest.approx(HOME_POSITION, abs=1e-3)
    assert rotation == pytest.approx(DOWN, abs=1e-2)
    assert all(lo <= q <= hi for q, (lo, hi) in zip(box_scene.home, LIMITS))


def test_ik_reaches_a_table_pose_and_refuses_one_out_of_reach(box_scene):
    target = np.array([0.5, 0.15, 0.05])
    q = box_scene.solve_ik(target, DOWN, box_scene.home)
    position, rotation = box_scene.forward(q)
    assert position == pytest.approx(target, abs=1e-3) and rotation == pytest.approx(DOWN, abs=1e-2)
    assert box_scene.solve_ik(np.array([1.5, 0.0, 0.05]), DOWN, box_scene.home) is None


def test_pick_lifts_a_box_with_the_phases_in_order(box_scene):
    box_scene.reset()
    phases = []
    outcome = execute_pick(box_scene, _pick_of(box_scene, grasp_candidates(box_scene)[0]),
                           tick=lambda phase, *_: phases.append(phase) or True)
    assert outcome.success and outcome.reason == '' and outcome.lifted_m > 0.08
    assert list(dict.fromkeys(phases)) == list(PHASES)


def test_unreachable_pick_fails_before_moving(box_scene):
    box_scene.reset()
    outcome = execute_pick(box_scene, PickPose(position=(1.4, 0.0, 0.02), yaw=0.0, width_m=0.04))
    assert outcome.reason == 'unreachable' and outcome.sim_time_s == 0.0
    assert box_scene.q == pytest.approx(box_scene.home)


def test_closing_on_bare_table_is_an_empty_grasp(box_scene):
    box_scene.reset()
    far = box_scene.object_position(0) - box_scene.base + np.array([0.0, 0.25, 0.0])
    outcome = execute_pick(box_scene, PickPose(position=(far[0], far[1], 0.01), yaw=0.0, width_m=0.04))
    assert outcome.reason == 'empty_grasp'


def test_cancel_stops_the_arm_where_it_is(box_scene):
    box_scene.reset()
    outcome = execute_pick(box_scene, _pick_of(box_scene, grasp_candidates(box_scene)[0]),
                           tick=lambda phase, *_: phase != 'descend')
    assert outcome.reason == 'canceled'
    stopped = box_scene.q
    for _ in range(250):                      # half a second later the arm has not moved on
        box_scene.step_physics()
    assert np.max(np.abs(box_scene.q - stopped)) < 0.02
    assert np.max(np.abs(box_scene.data.qvel[box_scene.dofadr])) < 0.01
