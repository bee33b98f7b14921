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
bench() {  # bench NAME ARGS...: run one benchmark, keep its JSON in runs/bench/NAME.json
  local name=$1; shift
  echo "== mtf-grasp bench $* --json"
  mtf-grasp bench "$@" --json | tee "runs/bench/$name.json"
}
bench transfer transfer
bench round round
bench inference-onnxruntime inference --backend onnxruntime
bench inference-onnxruntime-steps inference --backend onnxruntime --breakdown   # the node's time per step
bench inference-onnxruntime-int8 inference --backend onnxruntime --precision int8   # heaviest conv in int8
bench inference-torch inference --backend torch
if python -c 'from mtf_grasp.perception.inference_backend import native_bf16_cpu; raise SystemExit(not native_bf16_cpu())'; then
  bench inference-torch-bf16 inference --backend torch --precision bf16   # CPUs with AVX512-BF16 or AMX
fi
bench scale scale --robots 7,25,50   # config/fleet_scale.yaml: needs data/simgrasp_1300 (docs/scaling.md)
