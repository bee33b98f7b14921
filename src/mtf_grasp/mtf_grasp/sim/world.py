"""`SimScene`: a compiled MuJoCo world for a `SceneSpec`, with the objects settled on the table.

Grasp trials always start from the settled state (`reset`), so any number of trials, renders and
label checks see exactly the same scene.
"""
from __future__ import annotations

import numpy as np

from mtf_grasp.sim.gl import mujoco
from mtf_grasp.sim.mjcf import scene_xml
from mtf_grasp.sim.scene import SceneSpec

SETTLE_SECONDS = 1.2


class SimScene:
    """Physics for one scene. `model`/`data` are MuJoCo's; objects are bodies `obj<i>`; `robot`:
    MJCF fragments of what grasps (`mjcf.scene_xml`; default the floating hand)."""

    def __init__(self, spec: SceneSpec, *, robot: tuple[str, str] | None = None):
        self.spec = spec
        self.model = mujoco.MjModel.from_xml_string(scene_xml(spec, robot=robot))
        self.data = mujoco.MjData(self.model)
        self.object_bodies = [self.model.body(f'obj{i}').id for i in range(len(spec.objects))]
        mujoco.mj_forward(self.model, self.data)
        self._settle()
        self._qpos, self._qvel = self.data.qpos.copy(), self.data.qvel.copy()
        self._top = self._highest_point()

    def _highest_point(self) -> float:
        m, d = self.model, self.data
        geoms = [g for g in range(m.ngeom) if m.geom_bodyid[g] in self.object_bodies]
        # geom_aabb holds (centre, half size) in the geom frame; its corners bound the geom.
        corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
        tops = [float(np.max(d.geom_xpos[g] + (m.geom_aabb[g, :3] + corners * m.geom_aabb[g, 3:])
                             @ d.geom_xmat[g].reshape(3, 3).T, axis=0)[2]) for g in geoms]
        return max(tops, default=0.0)

    def _settle(self) -> None:
        # Objects are dropped from a few mm above their support; let them come to rest.
        for _ in range(int(SETTLE_SECONDS / self.model.opt.timestep)):
            mujoco.mj_step(self.model, self.data)
        self.data.qvel[:] = 0.0
        mujoco.mj_forward(self.model, self.data)

    def reset(self) -> None:
        """Back to the settled state, hand parked high above the table."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:], self.data.qvel[:] = self._qpos, self._qvel
        mujoco.mj_forward(self.model, self.data)

    def top_height(self) -> float:
        """Height of the highest object point in the settled scene (AABB of every object geom)."""
        return self._top

    def object_position(self, index: int) -> np.ndarray:
        return self.data.xpos[self.object_bodies[index]].copy()

    def object_rotation(self, index: int) -> np.ndarray:
        return self.data.xmat[self.object_bodies[index]].reshape(3, 3).copy()

    def object_of_geom(self, geom_id: int) -> int:
        """Index of the object that owns `geom_id`, or -1 (table, gripper)."""
        body = int(self.model.geom_bodyid[geom_id])
        return self.object_bodies.index(body) if body in self.object_bodies else -1
