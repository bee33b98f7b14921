"""A top-down pick by the simulated arm: approach, descend, close, lift, with a reason on failure.

The whole path is planned before the arm moves (IK at the pre-grasp pose, then every 5 mm down to
the grasp and up the lift), so an unreachable grasp fails without motion. The arm then follows it
under joint position control: a joint-space move to the pre-grasp pose, straight Cartesian lines
down and up. The descent is guarded as in the floating-hand trial (sim/trial.py): it stops when a
finger or the palm touches something. A link touching the table or an object is a collision.
`tick` is called every `tick_period_s` of simulated time: the caller paces the simulation,
reports feedback, and stops the arm (returns False) on cancel.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from mtf_grasp.perception.pick_pose import PickPose
from mtf_grasp.sim.arm_scene import ArmScene
from mtf_grasp.sim.gripper import GRIPPER
from mtf_grasp.sim.trial import hand_contacts, held_object

PHASES = ('approach', 'descend', 'close', 'lift')
REASONS = ('unreachable', 'collision', 'empty_grasp', 'slipped', 'timeout', 'canceled')
WAYPOINT_M = 0.005
ARRIVED_RAD = 3e-3          # a phase ends when every joint is this close to its target
BLOCKED_M = 0.01            # the descent stopped this far above the grasp: something was in the way

Tick = Callable[[str, np.ndarray, np.ndarray, float], bool]


@dataclass(frozen=True)
class PickSettings:
    approach_height: float = 0.12     # m above the grasp pose
    lift_height: float = 0.12
    joint_speed: float = 1.2          # rad/s of the joint that moves furthest to the pre-grasp pose
    descend_speed: float = 0.1        # m/s
    lift_speed: float = 0.1
    close_s: float = 0.3
    hold_s: float = 0.2
    settle_timeout_s: float = 2.0     # after a motion's last target: arrive within this or time out
    min_lift_fraction: float = 2 / 3  # success: the object rose this share of lift_height


@dataclass(frozen=True)
class PickOutcome:
    success: bool
    reason: str                 # '' on success, else one of REASONS
    lifted_m: float = 0.0
    object_index: int = -1
    sim_time_s: float = 0.0


class _Stop(Exception):
    def __init__(self, reason: str):
        self.reason = reason


class _Run:
    """One pick's state: the scene, the tick callback, the phase."""

    def __init__(self, scene: ArmScene, tick: Tick | None, *, tick_period_s: float, settle_timeout_s: float):
        self.scene, self.tick, self.phase, self.started = scene, tick, PHASES[0], scene.data.time
        self.settle_timeout = settle_timeout_s
        m = scene.model
        self.steps_per_tick = max(1, int(round(tick_period_s / m.opt.timestep)))
        self.fingers = [m.geom('finger_r').id, m.geom('finger_l').id]
        self.finger_actuators = [m.actuator('finger_r').id, m.actuator('finger_l').id]
        self.is_hand_geom = np.zeros(m.ngeom, dtype=bool)
        self.is_hand_geom[self.fingers + [m.geom('palm').id]] = True
        self._steps = 0

    def step(self, *, guard_links: bool = True) -> None:
        self.scene.step_physics()
        self._steps += 1
        if guard_links and self.scene.link_contact():
            raise _Stop('collision')
        if self.tick is not None and self._steps % self.steps_per_tick == 0:
            position, rotation = self.scene.tool_pose()
            if not self.tick(self.phase, position, rotation, self.scene.data.time - self.started):
                self.scene.hold(self.scene.q)        # stop where the arm is now
                raise _Stop('canceled')

    def hand_touches(self) -> bool:
        return bool(hand_contacts(self.scene, self.is_hand_geom))

    def follow(self, path: list[np.ndarray], seconds: float, *, guard: Callable[[], bool] | None = None) -> bool:
        """Command `path` (joint waypoints) evenly over `seconds`, then wait to arrive. Returns False
        when `guard` stopped the motion early (the arm then holds its last commanded target)."""
        steps = max(1, int(round(seconds / self.scene.model.opt.timestep)))
        for k in range(1, steps + 1):
            s = k / steps * (len(path) - 1)
            i = min(int(s), len(path) - 2)
            self.scene.hold(path[i] + (s - i) * (path[i + 1] - path[i]))
            self.step()
            if guard is not None and guard():
                return False
        self.arrive(path[-1])
        return True

    def arrive(self, target: np.ndarray) -> None:
        limit = self.scene.data.time + self.settle_timeout
        while np.max(np.abs(self.scene.q - target)) > ARRIVED_RAD:
            if self.scene.data.time > limit:
                raise _Stop('timeout')
            self.step()

    def wait(self, seconds: float, *, guard_links: bool = True) -> None:
        for _ in range(max(1, int(round(seconds / self.scene.model.opt.timestep)))):
            self.step(guard_links=guard_links)


def _line(scene: ArmScene, start_q: np.ndarray, start: PickPose, end: PickPose) -> list[np.ndarray] | None:
    """Joint waypoints along the straight line start -> end (every WAYPOINT_M), or None."""
    a, b = np.asarray(start.position), np.asarray(end.position)
    count = max(1, int(math.ceil(np.linalg.norm(b - a) / WAYPOINT_M)))
    path, q = [start_q], start_q
    for k in range(1, count + 1):
        q = scene.solve_ik(a + (b - a) * k / count, end.rotation_matrix, q)
        if q is None:
            return None
        path.append(q)
    return path


def plan_pick(scene: ArmScene, pick: PickPose, settings: PickSettings):
    """(pre-grasp joints, descent path, lift path), or None when any of it is unreachable. Of the
    two equivalent yaws of a parallel gripper, the one nearer the arm's current wrist is kept."""
    best = None
    for yaw in (pick.yaw, pick.yaw - math.pi if pick.yaw > 0 else pick.yaw + math.pi):
        target = PickPose(position=pick.position, yaw=yaw, width_m=pick.width_m)
        pre = target.raised(settings.approach_height)
        q_pre = scene.solve_ik(np.asarray(pre.position), pre.rotation_matrix, scene.q)
        if q_pre is None:
            continue
        down = _line(scene, q_pre, pre, target)
        up = down and _line(scene, down[-1], target, target.raised(settings.lift_height))
        if up and (best is None or np.max(np.abs(q_pre - scene.q)) < np.max(np.abs(best[0] - scene.q))):
            best = (q_pre, down, up)
    return best


def execute_pick(scene: ArmScene, pick: PickPose, *, settings: PickSettings = PickSettings(),
                 tick: Tick | None = None, tick_period_s: float = 0.02) -> PickOutcome:
    """Plan and run one pick from the arm's current state (`pick` in the base frame)."""
    run = _Run(scene, tick, tick_period_s=tick_period_s, settle_timeout_s=settings.settle_timeout_s)
    plan = plan_pick(scene, pick, settings)
    if plan is None:
        return PickOutcome(False, 'unreachable')
    q_pre, down, up = plan
    try:
        run.phase = 'approach'
        scene.data.ctrl[run.finger_actuators] = min(pick.width_m, GRIPPER.max_opening) / 2
        travel = float(np.max(np.abs(q_pre - scene.q)))
        smooth = [scene.q + (q_pre - scene.q) * (1 - math.cos(math.pi * k / 50)) / 2 for k in range(51)]
        if not run.follow(smooth, max(0.5, travel / settings.joint_speed), guard=run.hand_touches):
            raise _Stop('collision')
        run.phase = 'descend'
        run.follow(down, settings.approach_height / settings.descend_speed, guard=run.hand_touches)
        run.wait(0.03)
        blocked = scene.tool_pose()[0][2] > pick.position[2] + BLOCKED_M
        run.phase = 'close'
        scene.data.ctrl[run.finger_actuators] = 0.0
        # Fingers pressing on an object may push the wrist into it: links are not guarded here.
        run.wait(settings.close_s, guard_links=False)
        held = held_object(scene, fingers=run.fingers, is_hand_geom=run.is_hand_geom)
        if held < 0:
            raise _Stop('collision' if blocked else 'empty_grasp')
        run.phase = 'lift'
        start_z = scene.object_position(held)[2]
        run.follow(up, settings.lift_height / settings.lift_speed)
        run.wait(settings.hold_s)
        lifted = float(scene.object_position(held)[2] - start_z)
        still = held_object(scene, fingers=run.fingers, is_hand_geom=run.is_hand_geom) == held
        success = still and lifted >= settings.min_lift_fraction * settings.lift_height
        return PickOutcome(success, '' if success else 'slipped', lifted, held, scene.data.time - run.started)
    except _Stop as stop:
        return PickOutcome(False, stop.reason, 0.0, -1, scene.data.time - run.started)
