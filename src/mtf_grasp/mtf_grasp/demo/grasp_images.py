"""The demo's annotated images: grasp_inference's grasps for each replayed frame, drawn on that
frame as the bag holds it.

The grasps come from the node over DDS (`<ns>/grasps`, reliable, a few hundred bytes a frame);
the pixels come from the bag file. The node's own `grasp_image` topic is best effort, like any
camera stream, and full-size frames on it were lost between processes on a busy 2-core machine
(0 to 4 of 6 arrived in a demo), while the small grasp arrays all arrive.
"""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from mtf_grasp.grasping import GraspRect
from mtf_grasp.perception import draw_grasps, image_to_array, stamp_to_ns, topics
from mtf_grasp_interfaces.msg import GraspArray


class GraspCollector(Node):
    """Keeps the first grasp array of each frame by stamp: a looping replay repeats its stamps, so
    a frame missed on one pass (grasp_inference not ready yet, a camera sample lost) comes again."""

    def __init__(self, *, frames: int, namespace: str = '', **node_kwargs):
        super().__init__('grasp_collector', namespace=namespace, **node_kwargs)
        self.frames = frames
        self.grasps: dict[int, list[GraspRect]] = {}
        self.done = threading.Event()
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self.create_subscription(GraspArray, topics.GRASPS, self._keep, reliable)
        # The bag also holds ground-truth grasps, and a replayer that waits for subscribers waits
        # for one on every topic: listen there too, so the replay starts without its timeout.
        self.create_subscription(GraspArray, topics.GROUND_TRUTH, lambda _: None, reliable)

    def _keep(self, msg: GraspArray) -> None:
        rects = [GraspRect(g.center_x, g.center_y, g.angle, g.length_px, g.jaw_px, g.quality) for g in msg.grasps]
        self.grasps.setdefault(stamp_to_ns(msg.header.stamp), rects)
        if len(self.grasps) >= self.frames:
            self.done.set()


def write_grasp_images(bag: str | Path, grasps: dict[int, list[GraspRect]], out_dir: str | Path) -> list[Path]:
    """Each colour frame of `bag` that has grasps, annotated, in the bag's order, as out_dir/grasps_NN.png."""
    from mtf_grasp.bags import decode, read_bag

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    frames = (decode(m) for m in read_bag(bag) if m.topic.endswith(topics.COLOR))
    for frame in frames:
        rects = grasps.get(stamp_to_ns(frame.header.stamp))
        if rects is None:
            continue
        path = out_dir / f'grasps_{len(paths):02d}.png'
        rgb = draw_grasps(image_to_array(frame), [r.corners() for r in rects])
        if not cv2.imwrite(str(path), rgb[:, :, ::-1]):
            raise OSError(f'could not write {path}')
        paths.append(path)
    return paths
