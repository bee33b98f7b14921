"""GraspArray and RViz MarkerArray messages from detected grasps."""
from __future__ import annotations

from typing import Sequence

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Pose, Quaternion, Vector3
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from mtf_grasp.perception import GraspPose
from mtf_grasp_interfaces.msg import Grasp, GraspArray

JAW_DEPTH_M = 0.04      # how far the drawn fingers reach along the approach axis
FINGER_M = 0.008        # drawn finger thickness


def grasp_array(header: Header, *, grasps: Sequence, poses: Sequence[GraspPose | None], version: int,
                architecture: str) -> GraspArray:
    """One Grasp per rectangle; a grasp without valid depth keeps its pixels and gets an identity
    pose with zero width (consumers should skip `width_m == 0`)."""
    items = []
    for rect, pose in zip(grasps, poses):
        msg = Grasp(center_x=float(rect.cx), center_y=float(rect.cy), angle=float(rect.angle),
                    length_px=float(rect.length), jaw_px=float(rect.jaw), quality=float(rect.quality))
        if pose is not None:
            msg.pose = Pose(position=Point(x=pose.position[0], y=pose.position[1], z=pose.position[2]),
                            orientation=Quaternion(x=pose.orientation[0], y=pose.orientation[1],
                                                   z=pose.orientation[2], w=pose.orientation[3]))
            msg.width_m = float(pose.width_m)
        items.append(msg)
    return GraspArray(header=header, grasps=items, model_version=int(version), model_architecture=architecture)


def grasp_markers(header: Header, poses: Sequence[GraspPose | None], *, namespace: str = 'grasps') -> MarkerArray:
    """Two finger boxes per grasp (the best one green, the rest orange); a DELETEALL first so
    markers of an earlier frame with more grasps disappear."""
    markers = [Marker(header=header, ns=namespace, action=Marker.DELETEALL)]
    for index, pose in enumerate(poses):
        if pose is None:
            continue
        colour = ColorRGBA(r=0.1, g=0.9, b=0.1, a=0.9) if index == 0 else ColorRGBA(r=1.0, g=0.6, b=0.0, a=0.6)
        for side in (-1, 1):
            # Each finger sits at ±width/2 along the closing axis (gripper x) of the grasp frame.
            markers.append(Marker(
                header=header, ns=namespace, id=2 * index + (side > 0), type=Marker.CUBE, action=Marker.ADD,
                pose=_offset_pose(pose, side * pose.width_m / 2.0),
                scale=Vector3(x=FINGER_M, y=FINGER_M * 2, z=JAW_DEPTH_M), color=colour))
    return MarkerArray(markers=markers)


def _offset_pose(pose: GraspPose, along_x: float) -> Pose:
    x, y, z, w = pose.orientation
    # Gripper x axis in the camera frame (first column of the rotation matrix).
    axis = (1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y))
    px, py, pz = (p + along_x * a for p, a in zip(pose.position, axis))
    return Pose(position=Point(x=px, y=py, z=pz), orientation=Quaternion(x=x, y=y, z=z, w=w))


def timing_message(header: Header, steps_ms: dict[str, float], *, name: str, precision: str) -> DiagnosticArray:
    """One frame's step times as a DiagnosticArray: key `<step>_ms`, value in milliseconds; and
    `precision`, the number format its forward pass ran in."""
    values = [KeyValue(key=f'{step}_ms', value=f'{ms:.3f}') for step, ms in steps_ms.items()]
    values.append(KeyValue(key='precision', value=precision))
    status = DiagnosticStatus(level=DiagnosticStatus.OK, name=name, message='frame step times', values=values)
    return DiagnosticArray(header=header, status=[status])
