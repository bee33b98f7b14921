#!/usr/bin/env bash
# `make demo` after set-up (docs/demo.md): a SimGrasp set split over 7 robots with quantity skew
# (Dirichlet β = 0.7); the real multi-process ROS 2 fleet learns it with MTF-Grasp-Avg for the
# rounds of config/fleet.yaml; then grasp_inference serves the final model on a rosbag2 replay of
# scenes the fleet never saw (config/replay.yaml) and the annotated images are kept. Everything
# lands in runs/demo/; the closing summary names the files.
set -eo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
command -v mtf-grasp >/dev/null || mtf-grasp() { python -m mtf_grasp.cli "$@"; }
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( ($$ % 200) + 10 ))}
ROS_LOG_DIR=${ROS_LOG_DIR:-$(mktemp -d -t mtf-demo-log.XXXXXX)}; export ROS_LOG_DIR ROS_HOME=${ROS_HOME:-$ROS_LOG_DIR}

# Each step runs in its own process group, so Ctrl-C or a TERM to this script reaches it as
# SIGINT, on which mtf-grasp and the demo steps stop every node they started.
set -m
step_pid=
stop_step() {
  if [ -n "$step_pid" ]; then kill -INT -- "-$step_pid" 2>/dev/null || true; wait "$step_pid" 2>/dev/null || true; fi
  echo "demo: interrupted" >&2
}
trap 'stop_step; exit 130' INT
trap 'stop_step; exit 143' TERM
step() { "$@" & step_pid=$!; local rc=0; wait "$step_pid" || rc=$?; step_pid=; return "$rc"; }

SCENES=${DEMO_SCENES:-150}
HELDOUT_SCENES=12   # scored by the final model; the first SERVED of them are replayed
SERVED=6
DATA=data/simgrasp_demo
HELDOUT=data/simgrasp_demo_heldout
BAG=$HELDOUT.bag
OUT=runs/demo
START=$SECONDS

generate() {  # generate DIR SCENES SEED: once per (scenes, seed)
  if [ "$(cat "$1/.made" 2>/dev/null)" != "$2 $3" ]; then
    echo "demo: generating $2 SimGrasp scenes (seed $3) into $1"
    rm -rf "$1"
    step mtf-grasp dataset generate --out "$1" --scenes "$2" --seed "$3"
    echo "$2 $3" > "$1/.made"
  fi
}
generate "$DATA" "$SCENES" 0
generate "$HELDOUT" "$HELDOUT_SCENES" 1000
if [ ! -f "$BAG/metadata.yaml" ] || [ "$HELDOUT/.made" -nt "$BAG/metadata.yaml" ]; then
  rm -rf "$BAG"
  # Two frames a second: full-size RGB-D frames at camera rate starve grasp_inference on 2 cores.
  step mtf-grasp bag from-dataset "$HELDOUT" --out "$BAG" --limit "$SERVED" --period 0.5
fi

rm -rf "$OUT"
echo "demo: the ROS 2 fleet learns: 7 robots, quantity skew β=0.7, MTF-Grasp-Avg (config/fleet.yaml; logs: $OUT/logs)"
step mtf-grasp fleet --config config/fleet.yaml --out "$OUT" --quiet
echo "demo: grasp_inference serves the final global model on a replay of $SERVED held-out scenes"
# A serving step that got no frame answered still lets the report say what the fleet learned.
served=0
step mtf-grasp demo serve --run "$OUT" --bag "$BAG" --config config/replay.yaml --out "$OUT/grasps" --timeout 30 || served=$?
echo
step mtf-grasp demo report --run "$OUT" --grasps "$OUT/grasps" --heldout "$HELDOUT"
echo "demo: done in $(( (SECONDS - START) / 60 )) min $(( (SECONDS - START) % 60 )) s"
if [ "$served" != 0 ]; then
  echo "demo: error: grasp_inference answered no replayed frame (node logs in $OUT/serve/logs)" >&2
  exit "$served"
fi
