"""numpy <-> sensor_msgs Image/CameraInfo messages (rclpy side of `perception.image_encoding`)."""
from __future__ import annotations

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mtf_grasp.perception import array_to_image, camera_info_fields


def image_message(array: np.ndarray, encoding: str, *, header: Header) -> Image:
    encoded = array_to_image(array, encoding)
    msg = Image(header=header, height=encoded.height, width=encoded.width, encoding=encoded.encoding,
                is_bigendian=encoded.is_bigendian, step=encoded.step)
    msg.data = encoded.data   # one buffer copy; per-element assignment would take ~100 ms
    return msg


def camera_info_message(intrinsics, header: Header) -> CameraInfo:
    return CameraInfo(header=header, **camera_info_fields(intrinsics))
