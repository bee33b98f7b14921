"""Physics grasp trials with the two-finger gripper, from a top-down pose or an image grasp.

One trial: reset to the settled scene, open the hand to the requested width above the grasp
point, move down until the fingertips reach the grasp height or touch something (a guarded move),
close with force-limited fingers, lift 12 cm and hold. Success = an object held between both
fingers rose at least 8 cm. Dataset labels and model evaluation both run this same code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.sim.camera import CameraPose
from mtf_grasp.sim.gl import mujoco
from mtf_grasp.sim.gripper import GRIPPER
from mtf_grasp.sim.world import SimScene

GRASP_DEPTH = 0.02        # fingertips this far below the surface seen at the grasp centre
TABLE_CLEARANCE = 0.003   # ... but never closer than this to the table top (z = 0)
START_CLEARANCE = 0.02    # hand starts this far above the highest object
DESCEND_SPEED = 1.0       # m/s
SETTLE_SECONDS = 0.03     # the welded hand trails its target by ~1 cm at speed: let it arrive
CLOSE_SECONDS = 0.15
LIFT_HEIGHT, LIFT_SPEED, HOLD_SECONDS = 0.12, 0.8, 0.1
MIN_LIFT = 0.08


@dataclass(frozen=True)
class GripperPose:
    """Top-down grasp: fingertip centre (world, m), yaw of the opening direction, opening (m)."""

    position: tuple[float, float, float]
    yaw: float
    opening: float


@dataclass(frozen=True)
class TrialResult:
    success: bool
    lift_height_m: float
    reason: str            # lifted | slipped | blocked | no_contact | no_depth
    object_index: int = -1  # the object between the fingers after closing, -1 if none


class _Hand:
    """Indices of the gripper's parts in a SimScene."""

    def __init__(self, sim: SimScene):
        m = sim.model
        self.mocap = int(m.body_mocapid[m.body('hand_target').id])
        self.free = int(m.jnt_qposadr[m.joint('hand').id])
        self.body = m.body('hand').id
        self.qpos = [int(m.jnt_qposadr[m.joint(f'finger_{s}').id]) for s in 'rl']
        self.act = [m.actuator(f'finger_{s}').id for s in 'rl']
        self.fingers = [m.geom(f'finger_{s}').id for s in 'rl']
        self.is_hand_geom = np.zeros(m.ngeom, dtype=bool)
        self.is_hand_geom[self.fingers + [m.geom('palm').id]] = True


def hand_contacts(sim: SimScene, is_hand_geom: np.ndarray) -> list[tuple[int, int]]:
    """(hand geom, other geom) pairs in contact now; `is_hand_geom` marks the palm and fingers."""
    pairs = sim.data.contact.geom[:sim.data.ncon]
    ours = is_hand_geom[pairs]
    mixed = ours[:, 0] != ours[:, 1]
    return [(int(a), int(b)) if first else (int(b), int(a))
            for (a, b), first in zip(pairs[mixed], ours[mixed, 0])]


def held_object(sim: SimScene, *, fingers: list[int], is_hand_geom: np.ndarray) -> int:
    """The object touched by both finger geoms, or -1 (the floating hand and the arm share it)."""
    contacts = hand_contacts(sim, is_hand_geom)
    touched = [{sim.object_of_geom(o) for h, o in contacts if h == f} for f in fingers]
    both = (touched[0] & touched[1]) - {-1}
    return min(both) if both else -1


def _contacts(sim: SimScene, hand: _Hand) -> list[tuple[int, int]]:
    return hand_contacts(sim, hand.is_hand_geom)


def _held_object(sim: SimScene, hand: _Hand) -> int:
    return held_object(sim, fingers=hand.fingers, is_hand_geom=hand.is_hand_geom)


def _run(sim: SimScene, seconds: float) -> None:
    for _ in range(max(1, int(round(seconds / sim.model.opt.timestep)))):
        mujoco.mj_step(sim.model, sim.data)


def _place_hand(sim: SimScene, hand: _Hand, pose: GripperPose) -> None:
    """Hand above everything at the grasp's x, y and yaw, fingers open to the grasp width."""
    d = sim.data
    x, y, target_z = pose.position
    d.mocap_pos[hand.mocap] = (x, y, max(sim.top_height() + START_CLEARANCE, target_z))
    d.mocap_quat[hand.mocap] = (math.cos(pose.yaw / 2), 0.0, 0.0, math.sin(pose.yaw / 2))
    d.qpos[hand.free:hand.free + 3] = d.mocap_pos[hand.mocap]
    d.qpos[hand.free + 3:hand.free + 7] = d.mocap_quat[hand.mocap]
    half = min(pose.opening, GRIPPER.max_opening) / 2
    d.qpos[hand.qpos] = half
    d.ctrl[hand.act] = half
    mujoco.mj_forward(sim.model, d)


def _descend(sim: SimScene, hand: _Hand, target_z: float) -> bool:
    """Guarded move down to `target_z`; True when it stopped on something well above it
    (the fingers then rest on top of an object)."""
    d = sim.data
    dz = DESCEND_SPEED * sim.model.opt.timestep
    while d.mocap_pos[hand.mocap][2] - dz >= target_z and not _contacts(sim, hand):
        d.mocap_pos[hand.mocap][2] -= dz
        mujoco.mj_step(sim.model, d)
    _run(sim, SETTLE_SECONDS)
    return bool(d.xpos[hand.body][2] > target_z + 0.01)


def _lift(sim: SimScene, hand: _Hand) -> None:
    dz = LIFT_SPEED * sim.model.opt.timestep
    for _ in range(int(round(LIFT_HEIGHT / dz))):
        sim.data.mocap_pos[hand.mocap][2] += dz
        mujoco.mj_step(sim.model, sim.data)
    _run(sim, HOLD_SECONDS)


def run_trial(sim: SimScene, pose: GripperPose) -> TrialResult:
    """Execute a top-down grasp in physics from the settled scene."""
    sim.reset()
    hand = _Hand(sim)
    _place_hand(sim, hand, pose)
    blocked = _descend(sim, hand, pose.position[2])
    sim.data.ctrl[hand.act] = 0.0
    _run(sim, CLOSE_SECONDS)
    held = _held_object(sim, hand)
    if held < 0:
        return TrialResult(False, 0.0, 'blocked' if blocked else 'no_contact')
    start_z = sim.object_position(held)[2]
    _lift(sim, hand)
    lift = float(sim.object_position(held)[2] - start_z)
    success = lift >= MIN_LIFT and _held_object(sim, hand) == held
    reason = 'lifted' if success else 'blocked' if blocked else 'slipped'
    return TrialResult(success, lift, reason, held)


def _surface_depth(depth_image: np.ndarray, u: float, v: float, radius: int = 3) -> float:
    """Median of the valid depth around (u, v): robust to noise and small holes; 0 if none."""
    h, w = depth_image.shape
    col, row = int(round(u)), int(round(v))
    patch = depth_image[max(row - radius, 0):min(row + radius + 1, h),
                        max(col - radius, 0):min(col + radius + 1, w)]
    valid = patch[np.isfinite(patch) & (patch > 0)]
    return float(np.median(valid)) if valid.size else 0.0


def image_grasp_to_pose(*, center_px: tuple[float, float], angle: float, opening_px: float,
                        depth_image: np.ndarray, intrinsics: CameraIntrinsics,
                        camera_pose: CameraPose) -> GripperPose | None:
    """Image grasp -> top-down gripper pose via depth, intrinsics and camera pose; None when
    there is no depth around the centre. `angle` is in radians in image axes (x right, y down),
    as GraspRect.angle; `opening_px` is the opening measured at the surface depth."""
    u, v = center_px
    z = _surface_depth(depth_image, u, v)
    if z <= 0:
        return None
    c, s = math.cos(angle), math.sin(angle)
    ends = camera_pose.to_world(intrinsics.deproject(np.array([u - c, u + c]),
                                                     np.array([v - s, v + s]), z))
    centre = camera_pose.to_world(intrinsics.deproject(u, v, z))
    axis = (ends[1] - ends[0]) / 2           # world metres per image pixel along the grasp axis
    metres_per_px = float(np.linalg.norm(axis))
    grasp_z = max(centre[2] - GRASP_DEPTH, TABLE_CLEARANCE)
    return GripperPose(position=(float(centre[0]), float(centre[1]), float(grasp_z)),
                       yaw=math.atan2(axis[1], axis[0]), opening=opening_px * metres_per_px)


def execute_grasp(sim: SimScene, *, center_px: tuple[float, float], angle: float, opening_px: float,
                  depth_image: np.ndarray, intrinsics: CameraIntrinsics | None = None,
                  camera_pose: CameraPose | None = None) -> TrialResult:
    """Run the physics trial of an image-space grasp seen by the scene's camera (by default)."""
    pose = image_grasp_to_pose(center_px=center_px, angle=angle, opening_px=opening_px,
                               depth_image=depth_image,
                               intrinsics=intrinsics or sim.spec.intrinsics,
                               camera_pose=camera_pose or sim.spec.camera)
    if pose is None:
        return TrialResult(False, 0.0, 'no_depth')
    return run_trial(sim, pose)
