"""Write RGB-D frames, camera_info and ground-truth grasps as a rosbag2 (MCAP or sqlite3)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from mtf_grasp.bags.typestore import project_typestore
from mtf_grasp.errors import InputError
from mtf_grasp.perception import (GraspPose, array_to_image, camera_info_fields, grasp_pose, ns_to_sec_nanosec,
                                  topics)
from mtf_grasp.perception.intrinsics import CameraIntrinsics

STORAGES = ('mcap', 'sqlite3')
BAG_VERSION = 8     # the rosbag2 metadata version ROS 2 Jazzy writes
NO_POSE = GraspPose(position=(0.0, 0.0, 0.0), orientation=(0.0, 0.0, 0.0, 1.0), width_m=0.0)
TYPES = {
    topics.COLOR: 'sensor_msgs/msg/Image',
    topics.DEPTH: 'sensor_msgs/msg/Image',
    topics.CAMERA_INFO: 'sensor_msgs/msg/CameraInfo',
    topics.GROUND_TRUTH: 'mtf_grasp_interfaces/msg/GraspArray',
}


class RgbdBagWriter:
    """`with RgbdBagWriter(path) as bag: bag.write(stamp_ns=..., rgb=..., ...)`; topics are absolute
    (`/camera/color/image_raw`, ...) and a replayer may move them into a robot's namespace."""

    def __init__(self, path: str | Path, *, storage: str = 'mcap', frame_id: str = topics.COLOR_FRAME):
        from rosbags.rosbag2 import StoragePlugin, Writer

        if storage not in STORAGES:
            raise InputError(f'--storage: {storage!r} is not one of {", ".join(STORAGES)}')
        self.path = Path(path)
        if self.path.exists():
            raise InputError(f'{self.path}: already exists; choose a new bag directory')
        plugin = StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3
        self._store = project_typestore()
        self._types = self._store.types
        self._frame_id = frame_id
        self._writer = Writer(self.path, version=BAG_VERSION, storage_plugin=plugin)
        self.frames = 0
        self.topics = tuple(TYPES)

    def __enter__(self) -> 'RgbdBagWriter':
        self._writer.open()
        self._connections = {topic: self._writer.add_connection(f'/{topic}', msgtype, typestore=self._store)
                             for topic, msgtype in TYPES.items()}
        return self

    def __exit__(self, *exc) -> None:
        self._writer.close()

    def write(self, *, stamp_ns: int, rgb: np.ndarray, depth_m: np.ndarray, intrinsics: CameraIntrinsics,
              grasps: Sequence = ()) -> None:
        """One frame: rgb8 colour, 32FC1 depth in metres (lossless), camera_info and the
        ground-truth `GraspRect`s in the image's pixels."""
        header = self._header(stamp_ns)
        messages = {
            topics.COLOR: self._image(header, array_to_image(rgb, 'rgb8')),
            topics.DEPTH: self._image(header, array_to_image(depth_m.astype(np.float32), '32FC1')),
            topics.CAMERA_INFO: self._camera_info(header, intrinsics),
            topics.GROUND_TRUTH: self._grasp_array(header, grasps, depth_m, intrinsics),
        }
        for topic, message in messages.items():
            data = self._store.serialize_cdr(message, TYPES[topic])
            self._writer.write(self._connections[topic], int(stamp_ns), data)
        self.frames += 1

    def _header(self, stamp_ns: int):
        sec, nanosec = ns_to_sec_nanosec(stamp_ns)
        stamp = self._types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec)
        return self._types['std_msgs/msg/Header'](stamp=stamp, frame_id=self._frame_id)

    def _image(self, header, encoded):
        return self._types['sensor_msgs/msg/Image'](
            header=header, height=encoded.height, width=encoded.width, encoding=encoded.encoding,
            is_bigendian=encoded.is_bigendian, step=encoded.step,
            data=np.frombuffer(encoded.data, dtype=np.uint8))

    def _camera_info(self, header, intrinsics: CameraIntrinsics):
        t = self._types
        fields = camera_info_fields(intrinsics)
        roi = t['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
        return t['sensor_msgs/msg/CameraInfo'](
            header=header, height=fields['height'], width=fields['width'],
            distortion_model=fields['distortion_model'],
            d=np.array(fields['d'], dtype=np.float64), k=np.array(fields['k'], dtype=np.float64),
            r=np.array(fields['r'], dtype=np.float64), p=np.array(fields['p'], dtype=np.float64),
            binning_x=0, binning_y=0, roi=roi)

    def _grasp_array(self, header, grasps, depth_m, intrinsics):
        t = self._types
        items = []
        for rect in grasps:
            # A label without valid depth keeps its pixels; identity pose and zero width, as the node does.
            pose = grasp_pose(x=rect.cx, y=rect.cy, angle=rect.angle, length_px=rect.length,
                              depth_m=depth_m, intrinsics=intrinsics) or NO_POSE
            ros_pose = t['geometry_msgs/msg/Pose'](
                position=t['geometry_msgs/msg/Point'](*pose.position),
                orientation=t['geometry_msgs/msg/Quaternion'](*pose.orientation))
            items.append(t['mtf_grasp_interfaces/msg/Grasp'](
                center_x=rect.cx, center_y=rect.cy, angle=rect.angle, length_px=rect.length,
                jaw_px=rect.jaw, quality=float(rect.quality), pose=ros_pose, width_m=pose.width_m))
        return t['mtf_grasp_interfaces/msg/GraspArray'](header=header, grasps=items, model_version=0,
                                                        model_architecture='ground_truth')
