"""The client side of `mtf-grasp pick-trials`: an rclpy node that switches the simulated scene,
waits for grasps of the new scene, and sends them to grasp_executor as a PickGrasp goal.

Synchronised on events: a scene counts as switched once sim_camera and grasp_executor have both
acknowledged its seed; a GraspArray counts as the new scene's once its image stamp is later than
the moment both acknowledgements had arrived (sim_camera sends its acknowledgement before any
frame of the new scene, and stamps frames when it publishes them).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import Int64

from mtf_grasp.nodes.qos import LATCHED
from mtf_grasp.perception import topics
from mtf_grasp.perception.stamps import stamp_to_ns
from mtf_grasp_interfaces.action import PickGrasp
from mtf_grasp_interfaces.msg import GraspArray


@dataclass(frozen=True)
class PickAttempt:
    success: bool
    reason: str
    cycle_s: float


class PickClient(Node):
    def __init__(self, *, namespace: str, scene_topic: str):
        super().__init__('pick_trials', namespace=namespace)
        self._acks: dict[str, int] = {}
        self._latest: GraspArray | None = None
        self._scene = self.create_publisher(Int64, scene_topic, LATCHED)
        for who in ('sim_camera', 'grasp_executor'):
            self.create_subscription(Int64, f'{who}/scene_loaded', lambda m, w=who: self._acks.__setitem__(w, m.data),
                                     LATCHED)
        self.create_subscription(GraspArray, topics.GRASPS, lambda m: setattr(self, '_latest', m), 10)
        self._action = ActionClient(self, PickGrasp, 'pick')
        self._executor = SingleThreadedExecutor()
        self._executor.add_node(self)

    def spin_until(self, condition, *, timeout_s: float, look_after=lambda: None) -> bool:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                return False
            self._executor.spin_once(timeout_sec=0.05)
            look_after()
        return True

    def wait_ready(self, *, timeout_s: float, look_after=lambda: None) -> bool:
        return self.spin_until(self._action.server_is_ready, timeout_s=timeout_s, look_after=look_after)

    def load_scene(self, seed: int, *, timeout_s: float, look_after=lambda: None) -> int | None:
        """Publish the seed; the wall-clock ns when both nodes had acknowledged it, or None."""
        self._scene.publish(Int64(data=int(seed)))
        done = self.spin_until(lambda: all(self._acks.get(w) == seed for w in ('sim_camera', 'grasp_executor')),
                               timeout_s=timeout_s, look_after=look_after)
        return time.time_ns() if done else None

    def grasps_after(self, stamp_ns: int, *, timeout_s: float, look_after=lambda: None) -> GraspArray | None:
        fresh = lambda: self._latest is not None and stamp_to_ns(self._latest.header.stamp) > stamp_ns  # noqa: E731
        return self._latest if self.spin_until(fresh, timeout_s=timeout_s, look_after=look_after) else None

    def pick(self, grasps: GraspArray, *, timeout_s: float, look_after=lambda: None) -> PickAttempt:
        sent = self._action.send_goal_async(PickGrasp.Goal(grasps=grasps))
        if not self.spin_until(sent.done, timeout_s=timeout_s, look_after=look_after) or not sent.result().accepted:
            return PickAttempt(False, 'rejected', 0.0)
        result = sent.result().get_result_async()
        if not self.spin_until(result.done, timeout_s=timeout_s, look_after=look_after):
            return PickAttempt(False, PickGrasp.Result.REASON_TIMEOUT, timeout_s)
        answer = result.result().result
        return PickAttempt(answer.success, answer.reason or 'lifted', answer.cycle_s)

    def destroy_node(self) -> None:
        self._executor.shutdown()
        super().destroy_node()
