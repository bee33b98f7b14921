"""rosbag2 without ROS: write camera frames and ground-truth grasps (MCAP or sqlite3) with rosbags,
read them back as raw CDR, and schedule their replay."""
from mtf_grasp.bags.bag_reader import BagMessage, decode, read_bag
from mtf_grasp.bags.dataset_bag import dataset_intrinsics, write_dataset_bag
from mtf_grasp.bags.rgbd_writer import STORAGES, RgbdBagWriter
from mtf_grasp.bags.schedule import playback_schedule
from mtf_grasp.bags.typestore import project_typestore

__all__ = ['BagMessage', 'RgbdBagWriter', 'STORAGES', 'dataset_intrinsics', 'decode', 'playback_schedule',
           'project_typestore', 'read_bag', 'write_dataset_bag']
