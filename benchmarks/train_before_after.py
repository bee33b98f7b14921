"""Local-training throughput of an earlier commit against the working tree, side by side in one run.

Both sides time the same thing through the public `train_epochs`: one robot's epochs over the
first --samples scenes of --data, after one untimed epoch, in a fresh process each, alternating
before/after --repeats times so a drifting machine affects both alike. "after" is measured in
fp32 and in bf16 autocast (where the CPU has AVX512-BF16 or AMX); with --before-bf16, "before" too
(for a commit whose `train_epochs` takes `precision`).

    python benchmarks/train_before_after.py --before 13791eb --data data/simgrasp_1300 --out docs/results/bench_train.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [{'arch': 'grconvnet', 'width': 16, 'channels': 'rgbd', 'input_size': 112},
           {'arch': 'ggcnn2', 'width': 16, 'channels': 'rgbd', 'input_size': 64}]

HARNESS = '''
import json, sys, time, torch
from mtf_grasp.grasping import ModelSpec, build_model, open_dataset, train_epochs
c = json.loads(sys.argv[1]); torch.set_num_threads(c['threads'])
spec = ModelSpec(arch=c['arch'], channels=c['channels'], width=c['width'], input_size=c['input_size'])
ds = open_dataset(c['data'], spec=spec); idx = list(range(c['samples']))
extra = {'precision': c['precision']} if c['precision'] else {}
torch.manual_seed(0); model = build_model(spec)
train_epochs(model, ds, indices=idx, epochs=1, lr=1e-3, batch_size=c['batch'], seed=0, **extra)
t = time.perf_counter()
train_epochs(model, ds, indices=idx, epochs=c['epochs'], lr=1e-3, batch_size=c['batch'], seed=0, **extra)
print(c['samples'] * c['epochs'] / (time.perf_counter() - t))
'''


def cpu_model() -> str:
    for line in Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.processor()


def measure(src: Path, config: dict) -> float:
    env = {**os.environ, 'PYTHONPATH': str(src)}
    done = subprocess.run([sys.executable, '-c', HARNESS, json.dumps(config)], env=env, capture_output=True,
                          text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--before', required=True, help='the earlier commit')
    parser.add_argument('--data', default='data/simgrasp_1300')
    parser.add_argument('--samples', type=int, default=96)
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--before-bf16', action='store_true', help='also time the earlier commit in bf16')
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    common = {'data': str(Path(args.data).resolve()), 'samples': args.samples, 'epochs': args.epochs,
              'batch': args.batch, 'threads': args.threads}
    rows = []
    with tempfile.TemporaryDirectory(prefix='mtf-before-') as tmp:
        subprocess.run(['git', '-C', str(ROOT), 'worktree', 'add', '--detach', tmp, args.before], check=True,
                       capture_output=True)
        try:
            sides = {'before_fp32': (Path(tmp) / 'src/mtf_grasp', None),
                     **({'before_bf16': (Path(tmp) / 'src/mtf_grasp', 'bf16')} if args.before_bf16 else {}),
                     'after_fp32': (ROOT / 'src/mtf_grasp', 'fp32'),
                     'after_bf16': (ROOT / 'src/mtf_grasp', 'bf16')}
            for config in CONFIGS:
                runs = {name: [] for name in sides}
                for _ in range(args.repeats):
                    for name, (src, precision) in sides.items():
                        runs[name].append(measure(src, {**common, **config, 'precision': precision}))
                median = {name: statistics.median(v) for name, v in runs.items()}
                rows.append({**config, 'samples_per_s': {k: [round(x, 2) for x in v] for k, v in runs.items()},
                             'median': {k: round(v, 2) for k, v in median.items()},
                             'speedup_fp32': round(median['after_fp32'] / median['before_fp32'], 2),
                             'speedup_bf16': round(median['after_bf16'] / median['before_fp32'], 2)})
                if args.before_bf16:
                    rows[-1]['speedup_bf16_vs_before_bf16'] = round(median['after_bf16'] / median['before_bf16'], 2)
                print(json.dumps(rows[-1]), flush=True)
        finally:
            subprocess.run(['git', '-C', str(ROOT), 'worktree', 'remove', '--force', tmp], capture_output=True)
    result = {'before': args.before, 'after': 'working tree', 'cpu': cpu_model(), 'threads': args.threads,
              'batch_size': args.batch, 'samples': args.samples, 'timed_epochs': args.epochs, 'configs': rows}
    Path(args.out).write_text(json.dumps(result, indent=1) + '\n')


if __name__ == '__main__':
    main()
