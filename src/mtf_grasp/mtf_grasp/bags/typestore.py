"""The rosbags type store: ROS 2 Jazzy's standard types plus this project's grasp messages.

The grasp types are parsed from the installed .msg files, so their RIHS01 hashes equal the ones
rclpy and `ros2 bag` compute.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PROJECT_MESSAGES = ('Grasp', 'GraspArray')
INTERFACES = 'mtf_grasp_interfaces'


@lru_cache(maxsize=1)
def project_typestore():
    from ament_index_python.packages import get_package_share_directory
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    msg_dir = Path(get_package_share_directory(INTERFACES)) / 'msg'
    types = {}
    for name in PROJECT_MESSAGES:
        types.update(get_types_from_msg((msg_dir / f'{name}.msg').read_text(), f'{INTERFACES}/msg/{name}'))
    store.register(types)
    return store
