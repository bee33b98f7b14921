"""Headless RGB-D + segmentation rendering of a `SimScene` through its `rgbd` camera."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.sim.camera import CameraPose
from mtf_grasp.sim.gl import mujoco
from mtf_grasp.sim.gripper import HIDDEN_GROUP
from mtf_grasp.sim.sensor_noise import SensorStyle, noisy_depth, noisy_rgb
from mtf_grasp.sim.world import SimScene


@dataclass(frozen=True)
class Frame:
    """One RGB-D frame. depth: float32 metres (z along the optical axis; 0 = no data);
    segmentation: int32 object index per pixel, -1 for table and background."""

    rgb: np.ndarray
    depth: np.ndarray
    segmentation: np.ndarray
    intrinsics: CameraIntrinsics
    camera_pose: CameraPose

    def with_sensor_noise(self, rng: np.random.Generator, style: SensorStyle = SensorStyle()) -> 'Frame':
        """The frame as a RealSense (or the `style`'s camera) would see it: depth noise and holes,
        colour noise."""
        return replace(self, rgb=noisy_rgb(self.rgb, rng, style=style), depth=noisy_depth(self.depth, rng, style=style))


class SceneRenderer:
    """Renders the scene's current physics state; reuse one renderer for many frames."""

    def __init__(self, sim: SimScene):
        self._sim = sim
        intr = sim.spec.intrinsics
        self._renderer = mujoco.Renderer(sim.model, intr.height, intr.width)
        self._options = mujoco.MjvOption()
        self._options.geomgroup[HIDDEN_GROUP] = 0
        # Object index per geom id; the extra last slot answers id -1 (no geom) with -1.
        self._object_of_geom = np.array([sim.object_of_geom(g) for g in range(sim.model.ngeom)] + [-1],
                                        dtype=np.int32)

    def render(self, *, sensor_noise: bool = False, rng: np.random.Generator | None = None) -> Frame:
        """Perfect images, or with `sensor_noise` RealSense-like ones (noise drawn from `rng`,
        by default seeded by the scene seed, so a scene always renders the same)."""
        sim = self._sim
        ids = self._capture(self._renderer.enable_segmentation_rendering)
        geom = np.where(ids[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM), ids[..., 0], -1)
        frame = Frame(rgb=self._capture(None),
                      depth=self._capture(self._renderer.enable_depth_rendering).astype(np.float32),
                      segmentation=self._object_of_geom[geom],
                      intrinsics=sim.spec.intrinsics, camera_pose=sim.spec.camera)
        if not sensor_noise:
            return frame
        return frame.with_sensor_noise(rng if rng is not None else np.random.default_rng(sim.spec.seed),
                                       sim.spec.sensor)

    def _capture(self, enable_mode) -> np.ndarray:
        r = self._renderer
        if enable_mode is not None:
            enable_mode()
        r.update_scene(self._sim.data, 'rgbd', scene_option=self._options)
        image = r.render().copy()
        r.disable_depth_rendering()
        r.disable_segmentation_rendering()
        return image

    def close(self) -> None:
        self._renderer.close()

    def __enter__(self) -> 'SceneRenderer':
        return self

    def __exit__(self, *exc) -> None:
        self.close()
