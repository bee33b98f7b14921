#!/usr/bin/env bash
# The image's pip requirements: requirements.txt without what apt's ROS 2 Jazzy provides (the
# ros-jazzy-* wheels, colcon, and the pure-Python packages only the from-source launch build
# needs), with docker/constraints.txt's pin wherever it names the same package.
#   bash docker/image-requirements.sh [requirements.txt] [docker/constraints.txt]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
awk -F'[=<>!~ ;[]' '
  NR == FNR { if ($0 !~ /^#/ && NF) pin[tolower($1)] = $0; next }
  /^(ros-jazzy-|catkin-pkg|colcon-|osrf-pycommon|psutil|lark|importlib-metadata)/ { next }
  { name = tolower($1) }
  name in pin { print pin[name]; next }
  { print }
' "${2:-$here/constraints.txt}" "${1:-$here/../requirements.txt}"
