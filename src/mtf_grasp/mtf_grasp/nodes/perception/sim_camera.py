"""sim_camera: a MuJoCo table-top scene seen by a simulated RealSense, on the RealSense topics
(colour rgb8, aligned depth 16UC1 millimetres with 0 = no data, camera_info), at `rate_hz`.
A new random scene is drawn every `scene_period_s` seconds (0: keep the first one), or, with
`scene_topic`, whenever a seed arrives there (acknowledged on `~/scene_loaded` once its frames
follow). `mount_camera` puts the camera at the calibrated extrinsics of the simulated arm, so
grasp_executor's sim backend sees the same scene from the same camera."""
from __future__ import annotations

import sys

import numpy as np
from rclpy.node import Node
from std_msgs.msg import Int64

from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.perception.camera_publishers import CameraPublishers
from mtf_grasp.nodes.qos import LATCHED
from mtf_grasp.nodes.runtime import run_node
from mtf_grasp.perception.node_settings import SimCameraConfig

MM_PER_M = 1000.0


class SimCamera(Node):
    def __init__(self):
        super().__init__('sim_camera')
        self.cfg = declare_config(self, SimCameraConfig)
        self._out = CameraPublishers(self, frame_id=self.cfg.frame_id, reliable=self.cfg.reliable)
        self._scene_index = -1
        self._renderer = None
        self._rng = np.random.default_rng(self.cfg.seed)
        self._started = self.get_clock().now()
        if self.cfg.scene_topic:
            self._scene_ack = self.create_publisher(Int64, '~/scene_loaded', LATCHED)
            self._load_scene(0, self.cfg.seed)
            self.create_subscription(Int64, self.cfg.scene_topic,
                                     lambda m: self._load_scene(self._scene_index + 1, m.data), LATCHED)
        self.create_timer(1.0 / self.cfg.rate_hz, self._tick)

    def _tick(self) -> None:
        if not self.cfg.scene_topic:
            elapsed_s = (self.get_clock().now() - self._started).nanoseconds / 1e9
            index = int(elapsed_s // self.cfg.scene_period_s) if self.cfg.scene_period_s > 0 else 0
            if index != self._scene_index:
                self._load_scene(index, self.cfg.seed + index)
        frame = self._renderer.render(sensor_noise=self.cfg.sensor_noise, rng=self._rng)
        depth_mm = np.clip(np.round(frame.depth * MM_PER_M), 0, 65535).astype(np.uint16)
        self._out.publish(rgb=frame.rgb, depth=depth_mm, intrinsics=frame.intrinsics)

    def _load_scene(self, index: int, seed: int) -> None:
        from mtf_grasp.sim import SceneRenderer, SimScene, random_scene
        from mtf_grasp.sim.pick_scene import pick_scene

        if self._renderer is not None:
            self._renderer.close()
        objects = self.cfg.objects or None
        spec = (pick_scene(seed, extrinsics=self.cfg, n_objects=objects) if self.cfg.mount_camera
                else random_scene(seed, n_objects=objects))
        self._renderer = SceneRenderer(SimScene(spec))
        self._scene_index = index
        self.get_logger().info(f'scene {index} (seed {seed}, {len(spec.objects)} objects)')
        if self.cfg.scene_topic:     # every later frame shows this scene
            self._scene_ack.publish(Int64(data=int(seed)))

    def destroy_node(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
        super().destroy_node()


def main(args=None) -> int:
    return run_node('sim_camera', SimCamera, args=args)


if __name__ == '__main__':
    sys.exit(main())
