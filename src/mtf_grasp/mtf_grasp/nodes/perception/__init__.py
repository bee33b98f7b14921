"""Camera sources (RealSense, MuJoCo, rosbag2 replay) and grasp_inference, with their message conversions."""
