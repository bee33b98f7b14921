"""The three RealSense-named camera topics, published together with one stamp (sensor-data QoS, or
reliable where every frame should arrive: a reliable publisher still reaches best-effort subscribers)."""
from __future__ import annotations

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mtf_grasp.nodes.perception.ros_images import camera_info_message, image_message
from mtf_grasp.nodes.qos import camera_qos
from mtf_grasp.perception import topics


class CameraPublishers:
    def __init__(self, node: Node, *, frame_id: str = topics.COLOR_FRAME, reliable: bool = False):
        self._node, self._frame_id = node, frame_id
        qos = camera_qos(reliable=reliable, depth=5)
        self._color = node.create_publisher(Image, topics.COLOR, qos)
        self._depth = node.create_publisher(Image, topics.DEPTH, qos)
        self._info = node.create_publisher(CameraInfo, topics.CAMERA_INFO, qos)
        self.publishers = (self._color, self._depth, self._info)

    def publish(self, *, rgb: np.ndarray, depth: np.ndarray, intrinsics) -> Header:
        """rgb: uint8 RGB; depth: uint16 millimetres (16UC1) or float32 metres (32FC1)."""
        header = Header(stamp=self._node.get_clock().now().to_msg(), frame_id=self._frame_id)
        depth_encoding = '16UC1' if depth.dtype == np.uint16 else '32FC1'
        self._color.publish(image_message(rgb, 'rgb8', header=header))
        self._depth.publish(image_message(depth, depth_encoding, header=header))
        self._info.publish(camera_info_message(intrinsics, header))
        return header
