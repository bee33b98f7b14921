"""realsense_camera: a RealSense (or a .db3 recording of one, via `playback_file`) on the RealSense
topics: colour rgb8, depth aligned to colour as 16UC1 millimetres, and the colour camera_info with
the device's own intrinsics. A recording ends the node with exit code 0."""
from __future__ import annotations

import sys

from rclpy.node import Node

from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.perception.camera_publishers import CameraPublishers
from mtf_grasp.nodes.perception.subscriber_wait import wait_for_subscribers
from mtf_grasp.nodes.runtime import run_node
from mtf_grasp.perception.node_settings import RealSenseConfig


class RealSenseCamera(Node):
    def __init__(self):
        super().__init__('realsense_camera')
        self.cfg = declare_config(self, RealSenseConfig)
        self._out = CameraPublishers(self, frame_id=self.cfg.frame_id)

    def run(self) -> int:
        from mtf_grasp.perception.realsense_source import RealSenseSource

        c = self.cfg
        source = RealSenseSource(playback_file=c.playback_file, serial_no=c.serial_no, width=c.width,
                                 height=c.height, fps=c.fps, realtime=c.realtime, timeout_ms=c.frame_timeout_ms)
        if not wait_for_subscribers(self._out.publishers, count=c.wait_for_subscribers, timeout_s=c.wait_timeout_s):
            self.get_logger().warning(f'streaming although not every topic has {c.wait_for_subscribers} subscribers')
        count = 0
        with source:
            for count, capture in enumerate(source.frames(), start=1):
                self._out.publish(rgb=capture.rgb, depth=capture.depth_mm, intrinsics=capture.intrinsics)
        self.get_logger().info(f'published {count} frames; end of {c.playback_file or "stream"}')
        return count


def main(args=None) -> int:
    return run_node('realsense_camera', RealSenseCamera, work=RealSenseCamera.run, args=args)


if __name__ == '__main__':
    sys.exit(main())
