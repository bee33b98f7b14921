"""grasp_executor's `pose_goals` backend: the pick's commands (mtf_grasp.arm.pose_goals) sent to a
real arm's driver one at a time, each awaited on `arm/done` (the contract is documented there)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Header

from mtf_grasp.arm import pick_steps
from mtf_grasp.arm import pose_goals as contract
from mtf_grasp.nodes.pick.pick_messages import pose_stamped
from mtf_grasp.perception.stamps import stamp_to_ns
from mtf_grasp_interfaces.action import PickGrasp

POLL_S = 0.02


@dataclass(frozen=True)
class LinkOutcome:
    success: bool
    reason: str
    lifted_m: float = 0.0


class PoseGoalsLink:
    def __init__(self, node: Node, *, timeout_s: float, callback_group):
        self._node, self._timeout_s = node, timeout_s
        self._pose = node.create_publisher(PoseStamped, contract.POSE_GOAL, 10)
        self._gripper = node.create_publisher(JointState, contract.GRIPPER_COMMAND, 10)
        self._cancel = node.create_publisher(Header, contract.CANCEL, 10)
        self._done: dict[int, str] = {}
        self._arrived = threading.Condition()
        self._done_sub = node.create_subscription(Header, contract.DONE, self._on_done, 10,
                                                  callback_group=callback_group)

    def _on_done(self, msg: Header) -> None:
        with self._arrived:
            self._done[stamp_to_ns(msg.stamp)] = msg.frame_id
            self._arrived.notify_all()

    def run(self, pick, *, goal, goal_handle) -> LinkOutcome:
        cfg = self._node.cfg
        lift = goal.lift_height_m or cfg.lift_height_m
        steps = pick_steps(pick, approach_height=goal.approach_height_m or cfg.approach_height_m, lift_height=lift)
        if not self._driver_connected():
            return LinkOutcome(False, PickGrasp.Result.REASON_TIMEOUT)
        for step in steps:
            header = Header(stamp=self._node.get_clock().now().to_msg(), frame_id=cfg.base_frame)
            if step.pose is not None:
                message = pose_stamped(step.pose.position, step.pose.orientation, node=self._node, frame=cfg.base_frame)
                message.header = header
                goal_handle.publish_feedback(PickGrasp.Feedback(phase=step.phase, gripper_pose=message))
                self._pose.publish(message)
            else:
                self._gripper.publish(JointState(header=header, name=[contract.GRIPPER_JOINT],
                                                 position=[float(step.opening_m)]))
            status = self._wait(stamp_to_ns(header.stamp), goal_handle)
            if status != contract.OK:
                if status in ('timeout', 'canceled'):
                    self._cancel.publish(header)
                return LinkOutcome(False, status)
        return LinkOutcome(True, '', lift)

    def _driver_connected(self) -> bool:
        """Wait (up to the timeout) until our endpoints are matched with a driver's: our command
        publishers with its subscriptions, our done subscription with its publisher (a publisher merely
        seen in the graph may not be matched yet). That is our side of each match; the driver's side of
        the done topic is its to wait for (the contract, arm/pose_goals.py). The driver is the node
        publishing `done`; other subscribers to the commands (a logger, RViz) do not count for it."""
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            if self._matched_with_driver():
                return True
            time.sleep(POLL_S)
        self._node.get_logger().warning(f'no arm driver on {contract.POSE_GOAL} / {contract.DONE}')
        return False

    def _matched_with_driver(self) -> bool:
        """Some node publishes `done` and subscribes to both command topics, and every endpoint the
        graph knows on those topics is matched with ours (so the driver's are)."""
        node = self._node
        answering = node.get_publishers_info_by_topic(self._done_sub.topic_name)
        drivers = {(i.node_namespace, i.node_name) for i in answering}
        if not drivers or self._done_sub.get_publisher_count() < len(drivers):
            return False
        for publisher in (self._pose, self._gripper):
            readers = node.get_subscriptions_info_by_topic(publisher.topic_name)
            if (not drivers & {(i.node_namespace, i.node_name) for i in readers}
                    or publisher.get_subscription_count() < len(readers)):
                return False
        return True

    def _wait(self, stamp_ns: int, goal_handle) -> str:
        """The driver's status for the command stamped `stamp_ns`; 'timeout' or 'canceled' if none."""
        deadline = time.monotonic() + self._timeout_s
        with self._arrived:
            while stamp_ns not in self._done:
                if goal_handle.is_cancel_requested:
                    return PickGrasp.Result.REASON_CANCELED
                if time.monotonic() > deadline:
                    return PickGrasp.Result.REASON_TIMEOUT
                self._arrived.wait(POLL_S)      # woken by _on_done; the poll notices a cancel
            return self._done.pop(stamp_ns)
