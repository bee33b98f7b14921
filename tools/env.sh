# Source this file to use the workspace: venv, generated interfaces, loopback DDS defaults.
_mtf_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$_mtf_root/.venv/bin/activate"
export AMENT_PREFIX_PATH=$_mtf_root/.venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}
# colcon's setup.bash needs unset-safe variables; it adds the install space.
. "$_mtf_root/install/setup.bash"
# launch, launch_pytest and the ros2 CLI built by `make setup` from ../shared/ros2-from-source.
if [ -f "$_mtf_root/.venv/ros2-from-source/setup.bash" ]; then . "$_mtf_root/.venv/ros2-from-source/setup.bash"; fi
# ament_python puts console scripts (mtf-grasp and the nodes) in lib/<package>, as `ros2 run` expects.
export PATH=$_mtf_root/install/mtf_grasp/lib/mtf_grasp:$PATH
export ROS_AUTOMATIC_DISCOVERY_RANGE=${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}
export FASTDDS_BUILTIN_TRANSPORTS=${FASTDDS_BUILTIN_TRANSPORTS:-LARGE_DATA}
# Services wait for a new client's reply reader instead of dropping its answer (config/fastdds.xml).
export FASTRTPS_DEFAULT_PROFILES_FILE=${FASTRTPS_DEFAULT_PROFILES_FILE:-$_mtf_root/config/fastdds.xml}
export MUJOCO_GL=${MUJOCO_GL:-egl}
unset _mtf_root
