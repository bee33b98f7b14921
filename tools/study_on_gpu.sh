#!/usr/bin/env bash
# The studies' `cpu` preset on a CUDA machine without this workspace's venv (e.g. a lent GPU machine
# with its own torch; one attempt on an H200 stored no run in 7 minutes: docs/experiments.md): the
# core needs only torch, numpy, OpenCV, SciPy, PyYAML, tqdm, safetensors and matplotlib, and reads
# the 64 px pack of data/simgrasp_1300
# (mtf-grasp dataset pack data/simgrasp_1300 --out data/simgrasp_1300_rgbd64 --input-size 64).
#   tools/study_on_gpu.sh OUT [SEEDS] [SECONDS_QS] [SECONDS_CN] [DEVICE]
set -uo pipefail
OUT=${1:?usage: tools/study_on_gpu.sh OUT [SEEDS] [SECONDS_QS] [SECONDS_CN] [DEVICE]}
SEEDS=${2:-0-4}; QS_S=${3:-330}; CN_S=${4:-180}; DEVICE=${5:-cuda}
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD/src/mtf_grasp PYTHONUNBUFFERED=1 CUBLAS_WORKSPACE_CONFIG=:4096:8
PY=${PYTHON:-python3}
WORKERS=${WORKERS:-$(( $(nproc) > 2 ? $(nproc) - 2 : 1 ))}
{ date -u; nproc; lscpu | grep 'Model name'; nvidia-smi -L 2>/dev/null
  "$PY" -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__, "cuda", torch.cuda.is_available())'
} > "$OUT/machine.txt" 2>&1
study() {  # NAME CONFIG SECONDS: stops the study with SIGINT at its time limit (finished runs stay)
  timeout -k 30 -s INT "$3" "$PY" -m mtf_grasp.cli study --config "config/studies/$2.yaml" --seeds "$SEEDS" \
    --out "runs/$1" --data data/simgrasp_1300_rgbd64 --device "$DEVICE" --workers "$WORKERS" \
    > "runs/$1.log" 2>&1
  echo "$1: exit $?, $(find "runs/$1/runs" -name 'seed_*.json' | wc -l) runs stored" >> "$OUT/machine.txt"
  tr '\r' '\n' < "runs/$1.log" | grep -v 'run/s\|it/s' | tail -60 > "$OUT/$1.log"
  tar czf "$OUT/$1.tgz" -C runs "$1"
}
mkdir -p runs
study study_qs quantity_skew "$QS_S"
study study_cn class_noniid "$CN_S"
cat "$OUT/machine.txt"
