"""`mtf-grasp bag play` publishes a bag into a namespace over real DDS, at a scaled rate."""
import sys
import time

import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from mtf_grasp.bags import RgbdBagWriter
from mtf_grasp.grasping import GraspRect
from mtf_grasp.perception import CameraIntrinsics, depth_to_metres, image_to_array, stamp_to_ns, topics
from mtf_grasp_interfaces.msg import GraspArray

pytestmark = pytest.mark.ros
K = CameraIntrinsics(fx=50.0, fy=50.0, cx=15.5, cy=11.5, width=32, height=24)


@pytest.mark.slow
def test_bag_play_publishes_every_message_at_the_scaled_rate(ros_processes, ros_node, tmp_path):
    bag = tmp_path / 'bag'
    with RgbdBagWriter(bag, storage='sqlite3') as writer:
        for i in range(4):
            writer.write(stamp_ns=(10 + i) * 1_000_000_000, rgb=np.full((24, 32, 3), i, np.uint8),
                         depth_m=np.full((24, 32), 0.5 + i / 10, np.float32), intrinsics=K,
                         grasps=[GraspRect(cx=16, cy=12, angle=0.3, length=10, jaw=4)])
    qos = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
    got = {}
    for topic, msg_type in ((topics.COLOR, Image), (topics.DEPTH, Image), (topics.CAMERA_INFO, CameraInfo),
                            (topics.GROUND_TRUTH, GraspArray)):
        got[topic] = []
        ros_node.create_subscription(msg_type, f'/r1/{topic}',
                                     lambda m, t=topic: got[t].append((time.monotonic(), m)), qos)
    proc = ros_processes.start([sys.executable, '-m', 'mtf_grasp.cli', 'bag', 'play', str(bag), '--rate', '4',
                                '--namespace', 'r1', '--wait-subscribers', '1'], name='play')
    deadline = time.monotonic() + 60
    while min(map(len, got.values())) < 4 and time.monotonic() < deadline:
        ros_node.executor.spin_once(timeout_sec=0.05)
    assert [len(v) for v in got.values()] == [4, 4, 4, 4], ros_processes.log(proc)
    assert proc.wait(timeout=20) == 0 and 'played 16 messages' in ros_processes.log(proc)
    arrivals = [t for t, _ in got[topics.COLOR]]
    assert arrivals[-1] - arrivals[0] == pytest.approx(0.75, abs=0.2)      # 3 s recorded at rate 4
    for i, (_, color) in enumerate(got[topics.COLOR]):
        assert stamp_to_ns(color.header.stamp) == (10 + i) * 1_000_000_000
        assert image_to_array(color)[0, 0, 0] == i
        assert depth_to_metres(got[topics.DEPTH][i][1])[0, 0] == pytest.approx(0.5 + i / 10)
    assert got[topics.GROUND_TRUTH][0][1].grasps[0].angle == pytest.approx(0.3)
