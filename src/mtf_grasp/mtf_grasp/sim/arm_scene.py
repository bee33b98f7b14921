"""`ArmScene`: a table-top scene with the UR5e-like arm (sim/arm.py), its kinematics and IK.

Poses here are in `base_link` (the arm base frame: the world shifted by `arm.BASE_POSITION`).
IK is damped least squares on the 6x6 Jacobian of the tool site (MuJoCo's `mj_jacSite`), run on
a scratch copy of the state so the simulated arm is not disturbed; joint limits are enforced at
every iteration, and a target that does not converge within them is unreachable.
"""
from __future__ import annotations

import math

import numpy as np

from mtf_grasp.sim import arm
from mtf_grasp.sim.gl import mujoco
from mtf_grasp.sim.scene import SceneSpec
from mtf_grasp.sim.world import SimScene

# Home: tool 0.40 m above the table, pointing down, between the base and the workspace.
HOME_POSITION = (0.25, 0.0, 0.40)
HOME_SEED = (0.0, 0.3, 1.7, -0.43, -math.pi / 2, 0.0)      # elbow up, wrist down
DOWN = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])   # tool z down, x along base x
IK_ITERATIONS, IK_DAMPING, IK_MAX_STEP = 200, 0.02, 0.25
POSITION_TOLERANCE, ROTATION_TOLERANCE = 5e-4, 2e-3


def rotation_error(current: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Axis * angle (small-angle form) turning `current` towards `target`, world axes."""
    return 0.5 * sum(np.cross(current[:, i], target[:, i]) for i in range(3))


class ArmScene(SimScene):
    """The scene of `spec` with the arm parked at home (settled and reset there)."""

    def __init__(self, spec: SceneSpec):
        super().__init__(spec, robot=arm.arm_xml())

    def _settle(self) -> None:
        # Called by SimScene.__init__ before anything settles: index the arm and park it first.
        m = self.model
        self._scratch = mujoco.MjData(m)
        joints = [m.joint(name).id for name in arm.JOINTS]
        self.qadr = np.array([m.jnt_qposadr[j] for j in joints])
        self.dofadr = np.array([m.jnt_dofadr[j] for j in joints])
        self.actuators = np.array([m.actuator(name).id for name in arm.JOINTS])
        self.lower, self.upper = m.jnt_range[joints, 0], m.jnt_range[joints, 1]
        self.site = m.site(arm.TOOL_SITE).id
        self.base = np.asarray(arm.BASE_POSITION, float)
        links = {m.body(name).id for name in ('base_link', 'shoulder_link', 'upper_arm_link', 'forearm_link',
                                               'wrist_1_link', 'wrist_2_link', 'wrist_3_link')}
        self.is_link_geom = np.array([m.geom_bodyid[g] in links for g in range(m.ngeom)] + [False])
        self.is_link_geom[m.geom('coupling').id] = True
        home = self.solve_ik(np.asarray(HOME_POSITION), DOWN, np.asarray(HOME_SEED))
        if home is None:
            raise RuntimeError('the home pose has no IK solution: check sim/arm.py')
        self.home = home
        self.hold(home, write_qpos=True)
        super()._settle()

    def reset(self) -> None:
        super().reset()
        self.hold(self.home)

    def hold(self, q: np.ndarray, *, write_qpos: bool = False) -> None:
        """Command joint positions `q` (and, with write_qpos, put the arm there at once)."""
        self.data.ctrl[self.actuators] = q
        if write_qpos:
            self.data.qpos[self.qadr] = q
            self.data.qvel[self.dofadr] = 0.0
            mujoco.mj_forward(self.model, self.data)

    def step_physics(self) -> None:
        mujoco.mj_step(self.model, self.data)

    @property
    def q(self) -> np.ndarray:
        return self.data.qpos[self.qadr].copy()

    def tool_pose(self, data=None) -> tuple[np.ndarray, np.ndarray]:
        """(position, 3x3 rotation) of the tool site in the base frame."""
        d = self.data if data is None else data
        return d.site_xpos[self.site] - self.base, d.site_xmat[self.site].reshape(3, 3).copy()

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tool pose (base frame) of joint positions `q`, on the scratch state."""
        d = self._scratch
        d.qpos[self.qadr] = q
        mujoco.mj_kinematics(self.model, d)
        return self.tool_pose(d)

    def solve_ik(self, position: np.ndarray, rotation: np.ndarray, q_start: np.ndarray) -> np.ndarray | None:
        """Joint positions placing the tool at `position`/`rotation` (base frame), starting the
        search at `q_start`; None if no solution within the joint limits converges."""
        m, d = self.model, self._scratch
        jacp, jacr = np.zeros((3, m.nv)), np.zeros((3, m.nv))
        q = np.clip(np.asarray(q_start, float), self.lower, self.upper)
        for _ in range(IK_ITERATIONS):
            pos, rot = self.forward(q)
            error = np.concatenate([position - pos, rotation_error(rot, rotation)])
            if np.linalg.norm(error[:3]) < POSITION_TOLERANCE and np.linalg.norm(error[3:]) < ROTATION_TOLERANCE:
                return q
            mujoco.mj_comPos(m, d)
            mujoco.mj_jacSite(m, d, jacp, jacr, self.site)
            jac = np.vstack([jacp[:, self.dofadr], jacr[:, self.dofadr]])
            step = jac.T @ np.linalg.solve(jac @ jac.T + IK_DAMPING ** 2 * np.eye(6), error)
            norm = np.linalg.norm(step)
            q = np.clip(q + step * min(1.0, IK_MAX_STEP / norm if norm > 0 else 1.0), self.lower, self.upper)
        return None

    def link_contact(self) -> bool:
        """True while an arm link (not a finger or the palm) touches the table or an object."""
        pairs = self.data.contact.geom[:self.data.ncon]
        return bool(np.any(self.is_link_geom[pairs[:, 0]] ^ self.is_link_geom[pairs[:, 1]]))
