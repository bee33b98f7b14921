"""bag_replayer: publishes a rosbag2's messages (raw CDR, no re-serialisation) at the recorded or a
scaled rate, optionally looping, into the node's namespace (`/camera/...` becomes `<ns>/camera/...`).
"""
from __future__ import annotations

import importlib
import sys
import time

from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from mtf_grasp.errors import InputError
from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.perception.subscriber_wait import wait_for_subscribers
from mtf_grasp.nodes.runtime import run_node
from mtf_grasp.perception.node_settings import ReplayConfig

# Reliable publishers reach both reliable and best-effort (sensor-data) subscribers. Transient-local:
# discovery is two-sided, so a subscriber the replayer already counts may match it only after the
# first messages went out; one that asks for transient-local still gets the last 10 of each topic
# (volatile subscribers, such as grasp_inference's, are unaffected).
ACK_TIMEOUT_S = 10.0
REPLAY_QOS = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.TRANSIENT_LOCAL)


def message_class(msgtype: str):
    """'sensor_msgs/msg/Image' -> sensor_msgs.msg.Image."""
    package, _, name = msgtype.rpartition('/')
    try:
        return getattr(importlib.import_module(package.replace('/', '.')), name)
    except (ImportError, AttributeError):
        raise InputError(f'message type {msgtype} is not available (is its package built and sourced?)') from None


class BagReplayer(Node):
    def __init__(self, **node_kwargs):
        super().__init__('bag_replayer', **node_kwargs)
        from mtf_grasp.bags import read_bag

        self.cfg = declare_config(self, ReplayConfig)
        if not self.cfg.bag_path:
            raise InputError('parameter bag_path: a bag directory is required')
        self.messages = read_bag(self.cfg.bag_path)
        types = {m.topic: m.msgtype for m in self.messages}
        self._by_topic = {topic: self.create_publisher(message_class(msgtype), topic.lstrip('/'), REPLAY_QOS)
                          for topic, msgtype in types.items()}
        self.published = 0

    def play(self) -> int:
        """Publish on schedule; returns the number of messages published (runs forever with `loop`)."""
        from mtf_grasp.bags import playback_schedule

        if not wait_for_subscribers(self._by_topic.values(), count=self.cfg.wait_for_subscribers,
                                    timeout_s=self.cfg.wait_timeout_s):
            self.get_logger().warning(f'playing although not every topic has {self.cfg.wait_for_subscribers} '
                                      f'subscribers after {self.cfg.wait_timeout_s} s')
        start = time.monotonic()
        schedule = playback_schedule([m.timestamp_ns for m in self.messages], rate=self.cfg.rate, loop=self.cfg.loop)
        for index, due in schedule:
            delay = start + due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            message = self.messages[index]
            self._by_topic[message.topic].publish(message.data)
            self.published += 1
        self.get_logger().info(f'played {self.published} messages from {self.cfg.bag_path}')
        self._await_acks()
        return self.published

    def _await_acks(self) -> None:
        """A reliable sample that no reader has acknowledged yet dies with its writer: on a busy
        machine the last ground truth of a bag was lost when the replayer exited right after
        publishing it. So wait (bounded, ACK_TIMEOUT_S in all) until every reader has it."""
        deadline = time.monotonic() + ACK_TIMEOUT_S
        for topic, publisher in self._by_topic.items():
            left = max(deadline - time.monotonic(), 0.0)
            if not publisher.wait_for_all_acked(Duration(nanoseconds=int(left * 1e9))):
                self.get_logger().warning(f'{topic}: not every reader acknowledged the last messages '
                                          f'within {ACK_TIMEOUT_S:.0f} s')


def main(args=None) -> int:
    return run_node('bag_replayer', BagReplayer, work=BagReplayer.play, args=args)


if __name__ == '__main__':
    sys.exit(main())
