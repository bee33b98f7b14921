"""GraspImageSaver: keeps one annotated image (grasp_inference's `<ns>/grasp_image`) per replayed
frame and writes them as PNG files once every frame of the bag has been seen."""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image

from mtf_grasp.perception import image_to_array, stamp_to_ns, topics
from mtf_grasp_interfaces.msg import GraspArray


class GraspImageSaver(Node):
    """Collects images by stamp: a looping replay repeats its stamps, so frames missed on one pass
    (grasp_inference not ready yet, a best-effort sample lost) arrive on the next."""

    def __init__(self, *, frames: int, namespace: str = '', **node_kwargs):
        super().__init__('grasp_image_saver', namespace=namespace, **node_kwargs)
        self.frames = frames
        self.images: dict[int, Image] = {}
        self.done = threading.Event()
        self.create_subscription(Image, topics.GRASP_IMAGE, self._keep, qos_profile_sensor_data)
        # The bag also holds ground-truth grasps, and a replayer that waits for subscribers waits
        # for one on every topic: listen there too, so the replay starts without its timeout.
        self.create_subscription(GraspArray, topics.GROUND_TRUTH, lambda _: None,
                                 QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))

    def _keep(self, msg: Image) -> None:
        self.images.setdefault(stamp_to_ns(msg.header.stamp), msg)
        if len(self.images) >= self.frames:
            self.done.set()

    def write(self, out_dir: str | Path) -> list[Path]:
        """The images in stamp order (the bag's, i.e. the dataset's) as out_dir/grasps_NN.png."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for k, stamp in enumerate(sorted(self.images)):
            path = out_dir / f'grasps_{k:02d}.png'
            rgb = image_to_array(self.images[stamp])
            if not cv2.imwrite(str(path), rgb[:, :, ::-1]):
                raise OSError(f'could not write {path}')
            paths.append(path)
        return paths
