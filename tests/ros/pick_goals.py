"""Test helpers for the pick action: a one-box pick scene, its grasp as the camera sees it, and an
action client driven by the test node's executor."""
from __future__ import annotations

import math
import time

from geometry_msgs.msg import Point, Pose, Quaternion
from rclpy.action import ActionClient
from std_msgs.msg import Header

from mtf_grasp.perception import topics
from mtf_grasp.perception.extrinsics import CameraExtrinsics
from mtf_grasp_interfaces.action import PickGrasp
from mtf_grasp_interfaces.msg import Grasp, GraspArray


def one_box_seed() -> int:
    """The first seed whose one-object pick scene is a box (random_scene only; no physics)."""
    from mtf_grasp.sim.scene import random_scene

    return next(s for s in range(100) if random_scene(s, n_objects=1).objects[0].category == 'box')


def box_grasp(seed: int) -> GraspArray:
    """A physics-free geometric grasp across the box, as grasp_inference would publish it."""
    import numpy as np

    from mtf_grasp.sim import SimScene, grasp_candidates
    from mtf_grasp.sim.pick_scene import pick_scene

    spec = pick_scene(seed, extrinsics=CameraExtrinsics(), n_objects=1)
    candidate = grasp_candidates(SimScene(spec))[0]
    top = spec.camera.to_camera(candidate.top)
    axis = np.asarray(spec.camera.rotation).T @ candidate.axis      # closing axis in the camera frame
    half = math.atan2(axis[1], axis[0]) / 2
    return grasp_array(position=top, quaternion=(0.0, 0.0, math.sin(half), math.cos(half)),
                       width_m=candidate.opening)


def grasp_array(*, position, quaternion, width_m: float) -> GraspArray:
    x, y, z = (float(v) for v in position)
    qx, qy, qz, qw = quaternion
    grasp = Grasp(pose=Pose(position=Point(x=x, y=y, z=z), orientation=Quaternion(x=qx, y=qy, z=qz, w=qw)),
                  width_m=float(width_m), quality=1.0)
    return GraspArray(header=Header(frame_id=topics.COLOR_FRAME), grasps=[grasp])


class PickClient:
    def __init__(self, node, name: str = '/robot_0/pick'):
        self.node = node
        self.client = ActionClient(node, PickGrasp, name)
        self.phases: list[str] = []

    def spin_until(self, condition, *, timeout_s: float, proc=None, log=lambda: '') -> bool:
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            self.node.executor.spin_once(timeout_sec=0.05)
            if proc is not None:
                assert proc.poll() is None, log()
        return bool(condition())

    def send(self, goal: PickGrasp.Goal, *, timeout_s: float = 60.0, on_feedback=None):
        """(goal handle, result future) of an accepted goal."""
        def feedback(msg):
            self.phases.append(msg.feedback.phase)
            if on_feedback is not None:
                on_feedback(msg.feedback)
        sent = self.client.send_goal_async(goal, feedback_callback=feedback)
        assert self.spin_until(sent.done, timeout_s=timeout_s), 'goal not answered'
        handle = sent.result()
        assert handle.accepted
        return handle, handle.get_result_async()
