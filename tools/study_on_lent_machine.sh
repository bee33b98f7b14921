#!/usr/bin/env bash
# A study's cpu preset on a lent many-core machine without this workspace's venv (its own python3
# with torch, numpy, OpenCV, SciPy, PyYAML, tqdm, safetensors, matplotlib), exactly as configured:
# no overrides, so each run's config hash matches the runs made here and the stored runs merge
# into docs/results/ (each run records the machine it ran on). Needs the preset's 64 px pack,
# data/simgrasp_1300_rgbd64 (44 MB: small enough to travel), and stops at SECONDS with SIGTERM;
# the runs finished by then are in OUT/runs.tgz.
#   tools/study_on_lent_machine.sh OUT SEEDS SECONDS [STUDY] [WORKERS]
set -uo pipefail
OUT=${1:?usage: tools/study_on_lent_machine.sh OUT SEEDS SECONDS [STUDY] [WORKERS]}
SEEDS=${2:?seeds, e.g. 3-4}; SECONDS_LIMIT=${3:?seconds}; STUDY=${4:-quantity_skew}
WORKERS=${5:-$(nproc --all)}
cd "$(dirname "$0")/.."
{ date -u; nproc --all; lscpu | grep 'Model name'; python3 -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'; } > "$OUT/machine.txt" 2>&1
export PYTHONPATH=$PWD/src/mtf_grasp PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
mkdir -p runs/lent/runs
# timeout signals the process group; the study stops its pool on the first SIGTERM.
timeout -k 20 -s TERM "$SECONDS_LIMIT" python3 -m mtf_grasp.cli study --config "config/studies/$STUDY.yaml" \
  --seeds "$SEEDS" --out runs/lent --workers "$WORKERS" > runs/lent.log 2>&1
echo "exit $?, $(find runs/lent -name 'seed_*.json' | wc -l) runs stored, $(date -u)" >> "$OUT/machine.txt"
tr '\r' '\n' < runs/lent.log | grep -v 'it/s\|run/s' | tail -40 > "$OUT/study.log"
tar czf "$OUT/runs.tgz" -C runs/lent runs
cat "$OUT/machine.txt"
