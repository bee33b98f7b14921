#!/bin/bash
# Source ROS 2 and the workspace, then run the given command.
set -e
. /opt/ros/jazzy/setup.bash
. /ws/install/setup.bash
export PATH=/ws/install/mtf_grasp/lib/mtf_grasp:$PATH   # mtf-grasp and the node scripts
exec "$@"
