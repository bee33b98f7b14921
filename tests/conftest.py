"""Shared test set-up: ROS 2 confined to this test session even when pytest is run directly."""
import os
import tempfile

# tools/run_tests.sh sets these; a bare `pytest` gets the same isolation.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(os.getpid() % 200 + 10))
os.environ.setdefault('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA')
os.environ.setdefault('MUJOCO_GL', 'egl')
if 'ROS_LOG_DIR' not in os.environ:
    os.environ['ROS_LOG_DIR'] = tempfile.mkdtemp(prefix='mtf-ros-log-')
    os.environ.setdefault('ROS_HOME', os.environ['ROS_LOG_DIR'])
