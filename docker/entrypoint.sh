#!/bin/bash
# Source ROS 2 and the workspace, then run the given command.
set -e
. /opt/ros/jazzy/setup.bash
. /ws/install/setup.bash
exec "$@"
