"""grasp_inference over real DDS: bad frames are dropped with a throttled warning and the node lives
on; a new global model is swapped in while frames keep being answered."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from camera_probe import Camera
from mtf_grasp.federated.codec import encode_state
from mtf_grasp.grasping import ModelSpec, build_model, save_model
from mtf_grasp.nodes.blob_transport import BlobHeader, make_blob
from mtf_grasp.nodes.qos import LATCHED
from mtf_grasp.perception import stamp_to_ns
from mtf_grasp.plan import NodeSpec, command_line, write_params_file
from mtf_grasp_interfaces.msg import ModelBlob

pytestmark = pytest.mark.ros
SPEC = ModelSpec(width=8, input_size=32)


def start_inference(ros_processes, tmp_path, **params):
    torch.manual_seed(0)
    path = tmp_path / 'model.safetensors'
    save_model(path, build_model(SPEC), SPEC, extra_meta={'version': 7})
    spec = NodeSpec('grasp_inference', 'grasp_inference', '', {'model_path': str(path), **params})
    return ros_processes.start(command_line(spec, write_params_file([spec], tmp_path / 'p.yaml')),
                               name='inference')


def warnings(log):
    return [line for line in log.splitlines() if 'frame dropped' in line]


@pytest.mark.slow
def test_bad_frames_are_dropped_with_throttled_warnings(ros_processes, ros_node, tmp_path):
    proc = start_inference(ros_processes, tmp_path, warn_period_s=3.0, queue_size=3)
    camera = Camera(ros_node)
    camera.wait_ready(proc, ros_processes)
    log = lambda: ros_processes.log(proc)  # noqa: E731
    nan_depth = np.full((48, 64), np.nan, np.float32)
    bad = [
        (dict(encoding='yuv422'), 'unsupported image encoding'),
        (dict(depth=np.full((40, 64), 500, np.uint16)), 'sizes differ'),
        (dict(depth=nan_depth), 'depth image is NaN or empty'),
        (dict(info=False), 'no info'),       # frames without camera_info age out of a full queue
    ]
    for kwargs, reason in bad:
        # Frames are best effort: resent until the node has seen one and said why it dropped it.
        stamps = camera.send_until(lambda: reason in log(), timeout_s=30, proc=proc, procs=ros_processes, **kwargs)
        assert not any(camera.answered(s) for s in stamps)
        time.sleep(3.1)    # the warning period under test is wall time: past it, the next reason is logged too
    # A burst of bad frames inside one warning period gives one warning (the period is long
    # enough that the burst and the good frames after it fit in it on a loaded machine).
    before = len(warnings(log()))
    camera.send_until(lambda: len(warnings(log())) > before, timeout_s=30, proc=proc, procs=ros_processes,
                      resend_s=0.2, depth=nan_depth)
    for _ in range(4):
        camera.frame(depth=nan_depth)
    good = camera.send_until(lambda: camera.answered(camera.stamp_ns), timeout_s=30, proc=proc, procs=ros_processes)
    assert camera.answered(good[-1])
    assert len(warnings(log())) == before + 1
    assert proc.poll() is None


@pytest.mark.slow
def test_new_global_model_is_swapped_in_without_dropping_frames(ros_processes, ros_node, tmp_path):
    proc = start_inference(ros_processes, tmp_path)
    camera = Camera(ros_node)
    camera.wait_ready(proc, ros_processes)
    torch.manual_seed(1)
    encoded = encode_state(build_model(SPEC).state_dict(), spec=SPEC)
    blob = make_blob(encoded.payload, header=BlobHeader(sender='server', architecture=SPEC.arch, round_index=3,
                                                        version=8), encoding=encoded.encoding,
                     metadata_json=encoded.metadata_json, sha256=encoded.sha256)
    ros_node.create_publisher(ModelBlob, '/fleet/global_model', LATCHED).publish(blob)
    # One frame at a time, each waited for: the camera stream goes on through the swap. A frame
    # can be lost on the best-effort way in; a node that stalls loses several in a row.
    unanswered = []
    deadline = time.monotonic() + 60
    while sum(g.model_version == 8 for g in camera.grasps) < 3 and time.monotonic() < deadline:
        stamp = camera.frame()
        if not camera.spin_until(lambda: camera.answered(stamp), timeout_s=2.0, proc=proc, procs=ros_processes):
            unanswered.append(stamp)
    assert sum(g.model_version == 8 for g in camera.grasps) >= 3, ros_processes.log(proc)
    assert not any(b - a == 100_000_000 for a, b in zip(unanswered, unanswered[1:])), \
        f'consecutive frames unanswered during the model swap: {unanswered}'
    versions = [g.model_version for g in sorted(camera.grasps, key=lambda g: stamp_to_ns(g.header.stamp))]
    assert versions[-1] == 8 and 7 in versions
    assert versions == sorted(versions)
    assert 'model version 7 -> 8' in ros_processes.log(proc)


def test_a_precision_the_backend_cannot_run_stops_the_node_in_one_line(ros_processes, tmp_path):
    proc = start_inference(ros_processes, tmp_path, backend='onnxruntime', precision='bf16')
    assert proc.wait(timeout=60) == 2
    assert 'grasp_inference: error: precision bf16 needs backend torch' in ros_processes.log(proc)
