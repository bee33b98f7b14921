"""A camera driver in the test process: publishes colour, depth and camera_info frames to
grasp_inference and collects its grasp arrays.

The node subscribes with sensor-data QoS (best effort), so a frame can be lost on the way; tests
resend until the node's reaction is seen (`send_until`) instead of assuming every frame arrives."""
from __future__ import annotations

import time

import numpy as np
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mtf_grasp.nodes.perception.ros_images import camera_info_message, image_message
from mtf_grasp.perception import CameraIntrinsics, ns_to_sec_nanosec, stamp_to_ns, topics
from mtf_grasp_interfaces.msg import GraspArray

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


class Camera:
    def __init__(self, node, *, namespace: str = '', size: tuple[int, int] = (48, 64),
                 frame_id: str = topics.COLOR_FRAME):
        self.node, self.size, self.frame_id = node, size, frame_id
        prefix = f'/{namespace}/' if namespace else ''
        self.color = node.create_publisher(Image, prefix + topics.COLOR, RELIABLE)
        self.depth = node.create_publisher(Image, prefix + topics.DEPTH, RELIABLE)
        self.info = node.create_publisher(CameraInfo, prefix + topics.CAMERA_INFO, RELIABLE)
        self.grasps: list[GraspArray] = []
        self.grasps_topic = prefix + topics.GRASPS
        node.create_subscription(GraspArray, self.grasps_topic, self.grasps.append, RELIABLE)
        height, width = size
        self.intrinsics = CameraIntrinsics(fx=60.0, fy=60.0, cx=(width - 1) / 2, cy=(height - 1) / 2,
                                           width=width, height=height)
        self.stamp_ns = 1_000_000_000

    def frame(self, *, rgb=None, depth=None, encoding='rgb8', info=True) -> int:
        """Publishes one frame under a new stamp and returns that stamp."""
        self.stamp_ns += 100_000_000
        header = Header(frame_id=self.frame_id)
        header.stamp.sec, header.stamp.nanosec = ns_to_sec_nanosec(self.stamp_ns)
        rgb = np.full((*self.size, 3), 120, np.uint8) if rgb is None else rgb
        color = image_message(rgb, 'rgb8', header=header)
        color.encoding = encoding
        self.color.publish(color)
        depth = np.full(self.size, 500, np.uint16) if depth is None else depth
        self.depth.publish(image_message(depth, '16UC1' if depth.dtype == np.uint16 else '32FC1', header=header))
        if info:
            self.info.publish(camera_info_message(self.intrinsics, header))
        return self.stamp_ns

    def spin_until(self, condition, *, timeout_s, proc, procs) -> bool:
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            self.node.executor.spin_once(timeout_sec=0.05)
            assert proc.poll() is None, procs.log(proc)
        return condition()

    def send_until(self, condition, *, timeout_s, proc, procs, resend_s: float = 1.0, **frame) -> list[int]:
        """Frames (each `frame(**frame)`) every `resend_s` until `condition()`; their stamps."""
        stamps = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            stamps.append(self.frame(**frame))
            if self.spin_until(condition, timeout_s=resend_s, proc=proc, procs=procs):
                return stamps
        raise AssertionError(f'no reaction to {len(stamps)} frames in {timeout_s} s\n' + procs.log(proc)[-3000:])

    def array_for(self, stamp_ns: int) -> GraspArray | None:
        """The grasp array answering the frame stamped `stamp_ns`, once it has arrived."""
        return next((g for g in self.grasps if stamp_to_ns(g.header.stamp) == stamp_ns), None)

    def answered(self, stamp_ns: int) -> bool:
        return self.array_for(stamp_ns) is not None

    def wait_ready(self, proc, procs) -> None:
        """Discovery, then good frames until the first answer."""
        assert self.spin_until(lambda: self.color.get_subscription_count() > 0
                               and self.node.count_publishers(self.grasps_topic) > 0,
                               timeout_s=60, proc=proc, procs=procs), 'the node never matched\n' + procs.log(proc)
        self.send_until(lambda: bool(self.grasps), timeout_s=60, proc=proc, procs=procs)
