#!/usr/bin/env bash
# Runs pytest with the workspace sourced and ROS 2 confined to this test session:
# loopback-only discovery, a domain id of its own, logs in a temporary directory.
set -eo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( ($$ % 200) + 10 ))}
ROS_LOG_DIR=$(mktemp -d -t mtf-ros-log.XXXXXX)
export ROS_LOG_DIR ROS_HOME=$ROS_LOG_DIR
trap 'rm -rf "$ROS_LOG_DIR"' EXIT
echo "tests: ROS_DOMAIN_ID=$ROS_DOMAIN_ID ROS_LOG_DIR=$ROS_LOG_DIR"
python -m pytest "$@"
