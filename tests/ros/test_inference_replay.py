"""Bag replay -> grasp_inference -> grasp arrays, each node its own process over real DDS; the
accuracy of the published grasps equals offline `evaluate` on the same samples and model."""
from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from camera_probe import Camera
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image
from visualization_msgs.msg import Marker, MarkerArray

from mtf_grasp.bags import write_dataset_bag
from mtf_grasp.grasping import (GraspRect, ModelSpec, build_model, evaluate, grasp_success, open_dataset,
                                predict_grasps, save_model)
from mtf_grasp.perception import image_to_array, stamp_to_ns, topics
from mtf_grasp.perception_plan import replay_plan
from mtf_grasp.plan import command_line, write_params_file
from mtf_grasp_interfaces.msg import GraspArray

pytestmark = pytest.mark.ros
NS = 'robot_0'
CONFIG = Path(__file__).resolve().parents[2] / 'config'
SPEC = ModelSpec(width=8, input_size=48)


def write_box_scenes(root, *, scenes: int, width: int = 96, height: int = 72):
    """Jacquard layout: a box on a table per scene (grasp files are written by `label_half`)."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for k in range(scenes):
        rgb = np.full((height, width, 3), 90, np.uint8)
        depth = np.full((height, width), 0.6, np.float32)
        body = GraspRect(cx=rng.uniform(30, 66), cy=rng.uniform(22, 50), angle=rng.uniform(-1.5, 1.5),
                         length=30, jaw=12)
        poly = np.round(body.corners()).astype(np.int32)
        cv2.fillConvexPoly(rgb, poly, (200, 60, 60))
        cv2.fillConvexPoly(depth, poly, 0.55)
        cv2.imwrite(str(root / f'{k}_box{k}_RGB.png'), rgb[:, :, ::-1])
        cv2.imwrite(str(root / f'{k}_box{k}_perfect_depth.tiff'), depth)
        (root / f'{k}_box{k}_grasps.txt').write_text('48;36;0;20;10\n')
    return root


def label_half(root, model):
    """Ground truth = the model's own best grasp on even scenes, that grasp turned 90° on odd ones,
    so the offline accuracy is exactly 0.5 without training anything."""
    dataset = open_dataset(root, spec=SPEC)
    for i, name in enumerate(dataset.names):
        x, _ = dataset.load(i)
        best = dataset.sample(i).transform.to_source(predict_grasps(model, torch.from_numpy(x), max_grasps=1)[0])
        turn = 0.0 if i % 2 == 0 else math.pi / 2
        line = ';'.join(f'{v:.6f}' for v in replace(best, angle=best.angle + turn).to_jacquard())
        (root / f'{name}_grasps.txt').write_text(line + '\n')
    return open_dataset(root, spec=SPEC)


def _route(store: list, probed: list):
    def keep(msg):
        header = msg.markers[0].header if isinstance(msg, MarkerArray) else msg.header
        (probed if header.frame_id == 'probe' else store).append(msg)
    return keep


@pytest.mark.slow
def test_replayed_bag_gives_the_offline_accuracy(ros_processes, ros_node, tmp_path):
    torch.manual_seed(0)
    model = build_model(SPEC).eval()
    root = write_box_scenes(tmp_path / 'data', scenes=6)
    dataset = label_half(root, model)
    model_path = tmp_path / 'model.safetensors'
    save_model(model_path, model, SPEC, extra_meta={'version': 7})
    offline = evaluate(model, dataset)
    assert offline.accuracy == 0.5
    bag = tmp_path / 'bag'
    write_dataset_bag(root, bag, period_s=0.4, progress=False)

    # The test listens first, so the replayer (waiting for 1 subscriber per topic) starts only
    # once the inference node and this probe are its subscribers.
    # Answers to this test's probe frames (frame id 'probe', below) are kept apart from the bag's.
    results, truth, markers, images, probed = [], [], [], [], []
    reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    # The replayer's topics are transient-local: ground truth published before this probe matched
    # the replayer (discovery is two-sided) still arrives.
    latched = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    for msg_type, topic, store, qos in ((GraspArray, topics.GRASPS, results, reliable),
                                        (GraspArray, topics.GROUND_TRUTH, truth, latched),
                                        (MarkerArray, topics.GRASP_MARKERS, markers, reliable),
                                        (Image, topics.GRASP_IMAGE, images, qos_profile_sensor_data)):
        ros_node.create_subscription(msg_type, f'/{NS}/{topic}', _route(store, probed), qos)
    # The shipped replay plan, with this test's bag and model (and torch, as `evaluate` uses).
    specs = replay_plan(CONFIG / 'replay.yaml', overrides={
        'namespace': NS, 'bag_replayer': {'bag_path': str(bag), 'loop': False, 'wait_timeout_s': 60.0},
        'grasp_inference': {'model_path': str(model_path), 'backend': 'torch', 'top_k': 3}})
    params = write_params_file(specs, tmp_path / 'params.yaml')
    by_name = {spec.name: spec for spec in specs}
    inference = ros_processes.start(command_line(by_name['grasp_inference'], params), name='grasp_inference')
    # The node's outputs are reliable but volatile: what it publishes before it has matched this
    # probe is gone (seen: the first 4 of 6 grasp arrays). So replay only once they are matched.
    # Discovery is two-sided and seeing the node's publishers here does not mean they have matched
    # this probe; an answer to a probe frame on all three outputs does. (The node draws markers and
    # the image only for matched subscribers.) Probe frames carry their own frame id.
    probe = Camera(ros_node, namespace=NS, size=(72, 96), frame_id='probe')
    probe.wait_ready(inference, ros_processes)
    probe.send_until(lambda: {type(m) for m in probed} >= {GraspArray, MarkerArray, Image},
                     timeout_s=60, proc=inference, procs=ros_processes)
    replayer = ros_processes.start(command_line(by_name['bag_replayer'], params), name='bag_replayer')
    deadline = time.monotonic() + 120
    while min(len(results), len(truth)) < len(dataset) and time.monotonic() < deadline:
        ros_node.executor.spin_once(timeout_sec=0.1)
        assert inference.poll() is None, ros_processes.log(inference)
        assert replayer.poll() in (None, 0), ros_processes.log(replayer)
    assert len(results) == len(dataset), ros_processes.log(inference) + ros_processes.log(replayer)
    assert len(truth) == len(dataset)
    deadline = time.monotonic() + 10                 # markers and image follow each grasp array
    while (len(markers) < len(dataset) or not images) and time.monotonic() < deadline:
        ros_node.executor.spin_once(timeout_sec=0.1)
    assert len(markers) == len(dataset) and images
    assert markers[0].markers[0].action == Marker.DELETEALL and len(markers[0].markers) == 1 + 2 * 3
    assert image_to_array(images[0]).shape == (72, 96, 3)

    first_stamp = min(stamp_to_ns(r.header.stamp) for r in results)
    successes = []
    for msg in sorted(results, key=lambda r: stamp_to_ns(r.header.stamp)):
        i = round((stamp_to_ns(msg.header.stamp) - first_stamp) / 0.4e9)
        sample = dataset.sample(i)
        assert msg.model_version == 7 and msg.model_architecture == 'grconvnet'
        assert msg.header.frame_id == topics.COLOR_FRAME
        published = [GraspRect(cx=g.center_x, cy=g.center_y, angle=g.angle, length=g.length_px, jaw=g.jaw_px,
                               quality=g.quality) for g in msg.grasps]
        # The node's grasps are the offline pipeline's, mapped to camera pixels.
        x, _ = dataset.load(i)
        expected = [sample.transform.to_source(g) for g in predict_grasps(model, torch.from_numpy(x), max_grasps=3)]
        assert [v for g in published for v in (g.cx, g.cy, g.angle, g.length)] == pytest.approx(
            [v for g in expected for v in (g.cx, g.cy, g.angle, g.length)], abs=1e-3)
        for g in msg.grasps:
            assert g.pose.position.z == pytest.approx(0.55, abs=0.051) and g.width_m > 0
        model_pixels = [sample.transform.to_model(g) for g in published]
        successes.append(grasp_success(model_pixels, sample.rects, top_k=1))
    assert successes == offline.successes
    assert float(np.mean(successes)) == offline.accuracy
    print(f'accuracy from published grasps {np.mean(successes):.3f} == evaluate {offline.accuracy:.3f}')
