#!/usr/bin/env bash
# The benchmark commands behind the figures in README.md. Results go to runs/bench/*.json;
# nothing here is asserted by the tests. Run on a quiet machine.
set -eo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( ($$ % 200) + 10 ))}
ROS_LOG_DIR=$(mktemp -d -t mtf-bench-log.XXXXXX); export ROS_LOG_DIR ROS_HOME=$ROS_LOG_DIR
trap 'rm -rf "$ROS_LOG_DIR"' EXIT
mkdir -p runs/bench
for what in transfer round inference scale; do
  echo "== mtf-grasp bench $what --json"
  mtf-grasp bench "$what" --json | tee "runs/bench/$what.json"
done
