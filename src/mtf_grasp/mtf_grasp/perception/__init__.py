"""Camera frames without ROS: Image <-> numpy, RGB-D stamp matching, frame checks, grasp detection
on torch or onnxruntime, pixel grasp -> 6-D pose -> robot base frame (extrinsics) -> top-down pick,
the depth-based finger clearance check, annotation drawing, RealSense capture and
recordings, and the settings of the camera-side nodes. Works on message-shaped objects; never
imports rclpy (torch, onnxruntime and pyrealsense2 are imported when first used)."""
from mtf_grasp.perception import topics
from mtf_grasp.perception.annotate import draw_grasps
from mtf_grasp.perception.bad_frame import BadFrame
from mtf_grasp.perception.camera_info import (camera_info_fields, intrinsics_from_camera_info,
                                              nominal_intrinsics)
from mtf_grasp.perception.clearance import ClearanceSettings, blocked_share, rerank_by_clearance
from mtf_grasp.perception.extrinsics import CameraExtrinsics, pixel_to_base, pixel_to_camera
from mtf_grasp.perception.frame_check import check_rgbd
from mtf_grasp.perception.grasp_detector import Detection, DetectorSettings, GraspDetector
from mtf_grasp.perception.grasp_pose import GraspPose, centre_depth, grasp_pose
from mtf_grasp.perception.image_encoding import (ENCODINGS, EncodedImage, array_to_image, color_to_rgb,
                                                 depth_to_metres, image_to_array)
from mtf_grasp.perception.inference_backend import BACKENDS, make_backend
from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.perception.node_settings import InferenceConfig, RealSenseConfig, ReplayConfig, SimCameraConfig
from mtf_grasp.perception.pick_pose import PickPose, pick_from_grasp
from mtf_grasp.perception.realsense_recording import write_realsense_recording
from mtf_grasp.perception.realsense_source import RealSenseSource, RgbdCapture
from mtf_grasp.perception.rgbd_sync import DroppedFrame, RgbdFrame, RgbdSynchronizer
from mtf_grasp.perception.stamps import ns_to_sec_nanosec, stamp_to_ns
from mtf_grasp.perception.step_timer import STEPS, StepTimer
from mtf_grasp.perception.workspace import WorkspaceSettings, support_depth, workspace_mask

__all__ = [
    'BACKENDS', 'BadFrame', 'CameraExtrinsics', 'CameraIntrinsics', 'ClearanceSettings', 'PickPose',
    'blocked_share', 'pick_from_grasp', 'pixel_to_base', 'pixel_to_camera', 'rerank_by_clearance', 'Detection', 'DetectorSettings', 'DroppedFrame', 'ENCODINGS',
    'EncodedImage', 'GraspDetector', 'GraspPose', 'InferenceConfig', 'RealSenseConfig', 'RealSenseSource',
    'ReplayConfig', 'RgbdCapture', 'RgbdFrame', 'RgbdSynchronizer', 'STEPS', 'SimCameraConfig', 'StepTimer',
    'array_to_image', 'camera_info_fields', 'centre_depth', 'check_rgbd', 'color_to_rgb', 'depth_to_metres',
    'draw_grasps', 'grasp_pose', 'image_to_array', 'intrinsics_from_camera_info', 'make_backend',
    'nominal_intrinsics', 'ns_to_sec_nanosec', 'stamp_to_ns', 'topics', 'write_realsense_recording',
    'WorkspaceSettings', 'support_depth', 'workspace_mask',
]
