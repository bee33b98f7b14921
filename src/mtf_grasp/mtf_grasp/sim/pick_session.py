"""`SimArm`: the simulated arm as a grasp_executor backend: one pick scene at a time, picks paced
to a real-time factor, feedback and cancellation through callbacks. No ROS here."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from mtf_grasp.perception.extrinsics import CameraExtrinsics
from mtf_grasp.perception.pick_pose import PickPose
from mtf_grasp.sim.arm_scene import ArmScene
from mtf_grasp.sim.pick import PickOutcome, PickSettings, execute_pick
from mtf_grasp.sim.pick_scene import pick_scene

Feedback = Callable[[str, np.ndarray, np.ndarray], None]


class SimArm:
    def __init__(self, *, extrinsics: CameraExtrinsics, objects: int = 0):
        self._extrinsics, self._objects = extrinsics, objects
        self.scene: ArmScene | None = None
        self.seed: int | None = None

    def load(self, seed: int) -> None:
        """A fresh scene (objects settled, arm at home); the same objects and camera as
        sim_camera renders for this seed."""
        self.scene = ArmScene(pick_scene(seed, extrinsics=self._extrinsics, n_objects=self._objects or None))
        self.seed = seed

    def joint_positions(self) -> list[float]:
        return [] if self.scene is None else [float(v) for v in self.scene.q]

    def pick(self, pick: PickPose, *, settings: PickSettings, real_time_factor: float,
             on_feedback: Feedback, should_stop: Callable[[], bool]) -> PickOutcome:
        """Run one pick; the simulation waits for the wall clock when `real_time_factor` > 0."""
        started = time.monotonic()

        def tick(phase: str, position: np.ndarray, rotation: np.ndarray, sim_s: float) -> bool:
            if real_time_factor > 0:
                ahead = sim_s / real_time_factor - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            on_feedback(phase, position, rotation)
            return not should_stop()

        return execute_pick(self.scene, pick, settings=settings, tick=tick)
