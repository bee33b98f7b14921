"""Topic names of one robot's camera and grasp outputs (RealSense naming, relative to the
robot's namespace) and the topic a bag stores ground-truth grasps under."""

COLOR = 'camera/color/image_raw'
DEPTH = 'camera/aligned_depth_to_color/image_raw'
CAMERA_INFO = 'camera/color/camera_info'
GRASPS = 'grasps'
GRASP_MARKERS = 'grasp_markers'
GRASP_IMAGE = 'grasp_image'
GRASP_POSE = 'grasp_pose'                  # best grasp, PoseStamped in the base frame
CAMERA_EXTRINSICS = 'camera_extrinsics'    # latched TransformStamped base -> camera (what /tf_static would hold)
FRAME_TIMING = '~/timing'          # per-frame step times of grasp_inference, while subscribed
GROUND_TRUTH = 'grasps_ground_truth'
COLOR_FRAME = 'camera_color_optical_frame'
