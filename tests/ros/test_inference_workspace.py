"""grasp_inference with a workspace over real DDS: grasps only on what stands on the support surface."""
from __future__ import annotations

import numpy as np
import pytest

from camera_probe import Camera
from test_inference_frames import start_inference

pytestmark = pytest.mark.ros


def test_no_grasp_is_published_off_the_object_standing_on_the_board(ros_processes, ros_node, tmp_path):
    proc = start_inference(ros_processes, tmp_path, top_k=20, min_quality=0.0, workspace_max_height_m=0.2,
                           workspace_x0=0, workspace_y0=0, workspace_x1=64, workspace_y1=48)
    camera = Camera(ros_node)
    camera.wait_ready(proc, ros_processes)
    depth = np.full((48, 64), 700, np.uint16)    # the board, 0.70 m away (mm)
    depth[:, 48:] = 780                          # its edge: the floor 8 cm lower
    depth[16:32, 16:32] = 660                    # a 4 cm box on the board
    stamp = camera.frame(depth=depth)
    assert camera.spin_until(lambda: camera.answered(stamp), timeout_s=30, proc=proc, procs=ros_processes)
    (answer,) = [g for g in camera.grasps if g.header.stamp.nanosec == stamp % 1_000_000_000
                 and g.header.stamp.sec == stamp // 1_000_000_000]
    assert answer.grasps, 'the untrained model finds some grasp on the box'
    for g in answer.grasps:
        assert 14 <= g.center_x <= 33 and 14 <= g.center_y <= 33, (g.center_x, g.center_y)
