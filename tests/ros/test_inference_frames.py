"""grasp_inference over real DDS: bad frames are dropped with a throttled warning and the node lives
on; a new global model is swapped in while frames keep being answered."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mtf_grasp.federated.codec import encode_state
from mtf_grasp.grasping import ModelSpec, build_model, save_model
from mtf_grasp.nodes.blob_transport import BlobHeader, make_blob
from mtf_grasp.nodes.fleet_names import LATCHED
from mtf_grasp.nodes.ros_images import camera_info_message, image_message
from mtf_grasp.perception import CameraIntrinsics, ns_to_sec_nanosec, stamp_to_ns, topics
from mtf_grasp.plan import NodeSpec, command_line, write_params_file
from mtf_grasp_interfaces.msg import GraspArray, ModelBlob

pytestmark = pytest.mark.ros
SPEC = ModelSpec(width=8, input_size=32)
K = CameraIntrinsics(fx=60.0, fy=60.0, cx=31.5, cy=23.5, width=64, height=48)
RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


class Camera:
    """Publishes colour, depth and camera_info frames like a driver, from the test process."""

    def __init__(self, node):
        self.node = node
        self.color = node.create_publisher(Image, topics.COLOR, RELIABLE)
        self.depth = node.create_publisher(Image, topics.DEPTH, RELIABLE)
        self.info = node.create_publisher(CameraInfo, topics.CAMERA_INFO, RELIABLE)
        self.grasps = []
        node.create_subscription(GraspArray, topics.GRASPS, self.grasps.append, RELIABLE)
        self.stamp_ns = 1_000_000_000

    def frame(self, *, rgb=None, depth=None, encoding='rgb8', info=True):
        self.stamp_ns += 100_000_000
        sec, nanosec = ns_to_sec_nanosec(self.stamp_ns)
        header = Header(frame_id=topics.COLOR_FRAME)
        header.stamp.sec, header.stamp.nanosec = sec, nanosec
        rgb = np.full((48, 64, 3), 120, np.uint8) if rgb is None else rgb
        color = image_message(rgb, 'rgb8', header=header)
        color.encoding = encoding
        self.color.publish(color)
        depth = np.full((48, 64), 500, np.uint16) if depth is None else depth
        self.depth.publish(image_message(depth, '16UC1' if depth.dtype == np.uint16 else '32FC1', header=header))
        if info:
            self.info.publish(camera_info_message(K, header))
        return self.stamp_ns

    def spin_until(self, condition, *, timeout_s, proc, procs):
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            self.node.executor.spin_once(timeout_sec=0.05)
            assert proc.poll() is None, procs.log(proc)
        return condition()

    def answered(self, stamp_ns):
        return any(stamp_to_ns(g.header.stamp) == stamp_ns for g in self.grasps)


def start_inference(ros_processes, tmp_path, **params):
    torch.manual_seed(0)
    path = tmp_path / 'model.safetensors'
    save_model(path, build_model(SPEC), SPEC, extra_meta={'version': 7})
    spec = NodeSpec('grasp_inference', 'grasp_inference', '', {'model_path': str(path), **params})
    return ros_processes.start(command_line(spec, write_params_file([spec], tmp_path / 'p.yaml')),
                               name='inference')


def wait_ready(camera, proc, procs):
    """Frames until the first answer: discovery over DDS takes a moment."""
    assert camera.spin_until(lambda: camera.node.count_subscribers(topics.COLOR) > 0
                             and camera.node.count_publishers(topics.GRASPS) > 0, timeout_s=60, proc=proc, procs=procs)
    for _ in range(50):
        stamp = camera.frame()
        if camera.spin_until(lambda: camera.answered(stamp), timeout_s=1.0, proc=proc, procs=procs):
            return
    pytest.fail('the node never answered a good frame\n' + procs.log(proc))


def warnings(log):
    return [line for line in log.splitlines() if 'frame dropped' in line]


# Best-effort camera frames are sometimes lost or late on a loaded 2-core machine (seen in 1 of 3
# fresh-clone runs); a rerun tells that from a real regression, which fails every time.
@pytest.mark.flaky(reruns=2, reruns_delay=2)
@pytest.mark.slow
def test_bad_frames_are_dropped_with_throttled_warnings(ros_processes, ros_node, tmp_path):
    proc = start_inference(ros_processes, tmp_path, warn_period_s=3.0, queue_size=3)
    camera = Camera(ros_node)
    wait_ready(camera, proc, ros_processes)
    nan_depth = np.full((48, 64), np.nan, np.float32)
    bad = [
        (dict(encoding='yuv422'), 'unsupported image encoding'),
        (dict(depth=np.full((40, 64), 500, np.uint16)), 'sizes differ'),
        (dict(depth=nan_depth), 'depth image is NaN or empty'),
        (dict(info=False), 'no info'),
    ]
    for kwargs, reason in bad:
        stamp = camera.frame(**kwargs)
        if kwargs.get('info') is False:
            camera.frame(info=False)       # the frames without camera_info age out of a full queue
            camera.frame(info=False)
            camera.frame(info=False)
        camera.spin_until(lambda: reason in ros_processes.log(proc), timeout_s=10, proc=proc, procs=ros_processes)
        assert reason in ros_processes.log(proc)
        assert not camera.answered(stamp)
        time.sleep(3.1)                    # past the warning period: the next reason is logged too
    # A burst of bad frames inside one warning period gives one warning (the period is long
    # enough that the burst and the stale frames it pushes out fit in it on a loaded machine).
    before = len(warnings(ros_processes.log(proc)))
    for _ in range(5):
        camera.frame(depth=nan_depth)
    ok = camera.frame()
    assert camera.spin_until(lambda: camera.answered(ok), timeout_s=20, proc=proc, procs=ros_processes)
    assert len(warnings(ros_processes.log(proc))) == before + 1
    assert proc.poll() is None


# Best-effort frames can be lost on a loaded 2-core machine (seen once in 5 fresh-clone runs).
@pytest.mark.flaky(reruns=2, reruns_delay=2)
@pytest.mark.slow
def test_new_global_model_is_swapped_in_without_dropping_frames(ros_processes, ros_node, tmp_path):
    proc = start_inference(ros_processes, tmp_path)
    camera = Camera(ros_node)
    wait_ready(camera, proc, ros_processes)
    torch.manual_seed(1)
    encoded = encode_state(build_model(SPEC).state_dict(), spec=SPEC)
    blob = make_blob(encoded.payload, header=BlobHeader(sender='server', architecture=SPEC.arch, round_index=3,
                                                        version=8), encoding=encoded.encoding,
                     metadata_json=encoded.metadata_json, sha256=encoded.sha256)
    ros_node.create_publisher(ModelBlob, '/fleet/global_model', LATCHED).publish(blob)
    stamps = []
    deadline = time.monotonic() + 60
    while not any(g.model_version == 8 for g in camera.grasps) and time.monotonic() < deadline:
        stamps.append(camera.frame())
        camera.spin_until(lambda: False, timeout_s=0.25, proc=proc, procs=ros_processes)
    for _ in range(3):
        stamps.append(camera.frame())
        camera.spin_until(lambda: False, timeout_s=0.25, proc=proc, procs=ros_processes)
    assert camera.spin_until(lambda: all(camera.answered(s) for s in stamps), timeout_s=10, proc=proc,
                             procs=ros_processes), 'frames were dropped during the model swap'
    versions = [g.model_version for g in sorted(camera.grasps, key=lambda g: stamp_to_ns(g.header.stamp))]
    assert versions[-1] == 8 and 7 in versions
    assert versions == sorted(versions)
    assert 'model version 7 -> 8' in ros_processes.log(proc)


def test_a_precision_the_backend_cannot_run_stops_the_node_in_one_line(ros_processes, tmp_path):
    proc = start_inference(ros_processes, tmp_path, backend='onnxruntime', precision='bf16')
    assert proc.wait(timeout=60) == 2
    assert 'grasp_inference: error: precision bf16 needs backend torch' in ros_processes.log(proc)
