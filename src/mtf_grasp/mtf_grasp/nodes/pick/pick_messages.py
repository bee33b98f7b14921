"""PickGrasp goal -> the pick to execute, and the result / pose messages of grasp_executor."""
from __future__ import annotations

import time

import numpy as np
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Transform, TransformStamped, Vector3
from std_msgs.msg import Header

from mtf_grasp.perception.extrinsics import matrix_to_quaternion
from mtf_grasp.perception.pick_pose import PickPose, pick_from_grasp
from mtf_grasp.perception.stamps import stamp_to_ns
from mtf_grasp_interfaces.action import PickGrasp


def selected_pick(goal, *, latest, cfg, now_s: float) -> tuple[PickPose | None, str]:
    """The goal's grasp (its own array, or with use_best_grasp the latest one received) as a
    top-down pick in the base frame: the first grasp with a width (a depth at its centre)."""
    array = latest if goal.use_best_grasp else goal.grasps
    if array is None or not array.grasps:
        return None, 'no grasp received' if goal.use_best_grasp else 'the goal holds no grasp'
    if goal.use_best_grasp and now_s - stamp_to_ns(array.header.stamp) / 1e9 > cfg.grasp_max_age_s:
        return None, f'the latest grasps are older than grasp_max_age_s={cfg.grasp_max_age_s}'
    if array.header.frame_id not in ('', cfg.camera_frame):
        return None, f'grasps in frame {array.header.frame_id!r}, extrinsics are for {cfg.camera_frame!r}'
    for grasp in array.grasps:
        o = grasp.pose.orientation
        pick = pick_from_grasp(position_camera=(grasp.pose.position.x, grasp.pose.position.y, grasp.pose.position.z),
                               orientation_camera=(o.x, o.y, o.z, o.w), width_m=grasp.width_m, extrinsics=cfg,
                               grasp_depth=cfg.grasp_depth_m, table_z=cfg.table_height_m)
        if pick is not None:
            return pick, ''
    return None, 'no grasp has a depth at its centre'


def pose_stamped(position, rotation, *, node, frame: str, stamp=None) -> PoseStamped:
    """`rotation`: a 3x3 matrix or a quaternion (x, y, z, w); `stamp` defaults to now."""
    rotation = np.asarray(rotation, float)
    x, y, z, w = matrix_to_quaternion(rotation) if rotation.shape == (3, 3) else rotation
    stamp = node.get_clock().now().to_msg() if stamp is None else stamp
    return PoseStamped(header=Header(stamp=stamp, frame_id=frame),
                       pose=Pose(position=Point(x=float(position[0]), y=float(position[1]), z=float(position[2])),
                                 orientation=Quaternion(x=float(x), y=float(y), z=float(z), w=float(w))))


def pick_result(*, success: bool, reason: str, cfg, started: float, node, lifted_m: float = 0.0,
                pick: PickPose | None = None) -> PickGrasp.Result:
    result = PickGrasp.Result(success=bool(success), reason=reason, lifted_height_m=float(lifted_m),
                              cycle_s=float(time.monotonic() - started))
    if pick is not None:
        result.grasp_pose = pose_stamped(pick.position, pick.orientation, node=node, frame=cfg.base_frame)
    return result


def grasp_in_base(pose, *, extrinsics, node, stamp) -> PoseStamped:
    """A grasp pose of the camera frame (perception.GraspPose) in the base frame."""
    return pose_stamped(extrinsics.point_to_base(pose.position), extrinsics.orientation_to_base(pose.orientation),
                        node=node, frame=extrinsics.base_frame, stamp=stamp)


def extrinsics_transform(extrinsics, *, node) -> TransformStamped:
    """The calibration as /tf_static carries it (base_frame -> camera_frame); tf2_msgs is not
    installable here, so it goes out latched on its own topic."""
    (tx, ty, tz), (qx, qy, qz, qw) = extrinsics.camera_translation, extrinsics.camera_rotation
    return TransformStamped(header=Header(stamp=node.get_clock().now().to_msg(), frame_id=extrinsics.base_frame),
                            child_frame_id=extrinsics.camera_frame,
                            transform=Transform(translation=Vector3(x=tx, y=ty, z=tz),
                                                rotation=Quaternion(x=qx, y=qy, z=qz, w=qw)))
