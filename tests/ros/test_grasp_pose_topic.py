"""grasp_inference in its own process publishes the best grasp in the robot base frame
(`grasp_pose`, the camera pose mapped through the extrinsics) and the calibration itself."""
import pytest
import torch
from geometry_msgs.msg import PoseStamped, TransformStamped

from camera_probe import Camera
from mtf_grasp.grasping import ModelSpec, build_model, save_model
from mtf_grasp.nodes.qos import LATCHED
from mtf_grasp.perception.extrinsics import CameraExtrinsics
from mtf_grasp.perception.stamps import stamp_to_ns
from mtf_grasp.plan import NodeSpec, command_line, write_params_file

pytestmark = [pytest.mark.ros, pytest.mark.timeout(180)]
SPEC = ModelSpec(width=8, input_size=32)
# A quarter turn about z after a half turn about x: (x, y, z) -> (y, x, -z), then + (0.4, 0.1, 0.5).
EXTRINSICS = {'camera_translation': [0.4, 0.1, 0.5], 'camera_rotation': [0.7071067811865476, 0.7071067811865476, 0.0, 0.0]}


def test_best_grasp_in_the_base_frame(ros_processes, ros_node, tmp_path):
    torch.manual_seed(0)
    model = tmp_path / 'model.safetensors'
    save_model(model, build_model(SPEC), SPEC, extra_meta={'version': 1})
    spec = NodeSpec('grasp_inference', 'grasp_inference', '', {'model_path': str(model), **EXTRINSICS})
    proc = ros_processes.start(command_line(spec, write_params_file([spec], tmp_path / 'p.yaml')), name='inference')
    poses, transforms = [], []
    ros_node.create_subscription(PoseStamped, '/grasp_pose', poses.append, 10)
    ros_node.create_subscription(TransformStamped, '/camera_extrinsics', transforms.append, LATCHED)
    camera = Camera(ros_node)
    camera.wait_ready(proc, ros_processes)

    def matched():
        """The latest pose whose grasp array has arrived too (the two topics may arrive in either order)."""
        return next(((pose, array) for pose in reversed(poses)
                     if (array := camera.array_for(stamp_to_ns(pose.header.stamp))) is not None), None)

    camera.send_until(lambda: bool(transforms) and matched() is not None, timeout_s=30, proc=proc,
                      procs=ros_processes)
    pose, array = matched()
    best = next(g for g in array.grasps if g.width_m > 0)
    p = best.pose.position
    assert pose.header.frame_id == 'base_link'
    assert (pose.pose.position.x, pose.pose.position.y, pose.pose.position.z) == pytest.approx(
        (0.4 + p.y, 0.1 + p.x, 0.5 - p.z), abs=1e-6)
    o = best.pose.orientation
    expected = CameraExtrinsics(camera_translation=tuple(EXTRINSICS['camera_translation']),
                                camera_rotation=tuple(EXTRINSICS['camera_rotation'])).orientation_to_base(
        (o.x, o.y, o.z, o.w))
    q = pose.pose.orientation
    got = (q.x, q.y, q.z, q.w)
    assert got == pytest.approx(expected, abs=1e-6) or got == pytest.approx(tuple(-v for v in expected), abs=1e-6)
    t = transforms[0]
    assert (t.header.frame_id, t.child_frame_id) == ('base_link', 'camera_color_optical_frame')
    assert t.transform.translation.y == pytest.approx(0.1) and t.transform.rotation.x == pytest.approx(0.7071068)
