"""What one client crash costs MTF-Grasp-Avg, and the run-to-run noise to read it against.

For each seed: the fault-free run of config/experiments/quantity_skew_crash.yaml; the same run with
the largest low-level robot of that seed's plan crashing in round 1 (`--crash ROBOT:1`); and the
fp16-transfer control (quantity_skew_crash_fp16.yaml), which loses no data but nudges the
trajectory. Prints one row per seed and the mean differences with their standard errors.

    python benchmarks/crash_cost.py --seeds 0 1 2 3 4 --out runs/crash_cost [--jobs 2] [--no-control]

Needs data/simgrasp_1500 (mtf-grasp dataset generate --out data/simgrasp_1500 --scenes 1500 --seed 1).
Each run takes about 1.5 minutes on two cores.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / 'config' / 'experiments'


def experiment(config: str, seed: int, out: Path, *extra: str) -> float:
    """Final MTF-Grasp-Avg accuracy in %, reusing a finished run in `out`."""
    results = out / 'results.json'
    if not results.exists():
        with open(out.with_suffix('.log'), 'w') as log:
            subprocess.run(['mtf-grasp', 'experiment', '--config', str(CONFIGS / config), '--quick',
                            '--seed', str(seed), '--no-progress', '--out', str(out), *extra],
                           check=True, stdout=log, stderr=subprocess.STDOUT)
    return 100 * json.loads(results.read_text())['methods']['mtf_avg']['final_accuracy']


def largest_low_level_robot(run: Path) -> str:
    clusters = json.loads((run / 'results.json').read_text())['assignment']['clusters']
    shards = json.loads((run / 'partition.json').read_text())['robots']
    return max((robot for members in clusters.values() for robot in members), key=lambda r: (len(shards[r]), r))


def measure(seed: int, out: Path, control: bool) -> dict:
    free = experiment('quantity_skew_crash.yaml', seed, out / f'free_{seed}')
    robot = largest_low_level_robot(out / f'free_{seed}')
    crash = experiment('quantity_skew_crash.yaml', seed, out / f'crash_{seed}', '--crash', f'{robot}:1')
    row = {'seed': seed, 'crashed': robot, 'fault_free': free, 'crash': crash, 'crash_delta': crash - free}
    if control:
        row['fp16_delta'] = experiment('quantity_skew_crash_fp16.yaml', seed, out / f'fp16_{seed}') - free
    return row


def summary(values: list[float]) -> str:
    if len(values) < 2:
        return f'{values[0]:+.1f}'
    return (f'{statistics.mean(values):+.2f} (s.e. {statistics.stdev(values) / len(values) ** 0.5:.2f}, '
            f'sd {statistics.stdev(values):.2f}; within 2 points in {sum(abs(v) <= 2 for v in values)}/{len(values)})')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', required=True)
    parser.add_argument('--out', type=Path, required=True)
    parser.add_argument('--jobs', type=int, default=2, help='seeds measured side by side (one torch thread each)')
    parser.add_argument('--no-control', action='store_true', help='skip the fp16-transfer control runs')
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda s: measure(s, args.out, not args.no_control), args.seeds))
    for row in rows:
        control = f'   fp16 control {row["fp16_delta"]:+.1f}' if 'fp16_delta' in row else ''
        print(f'seed {row["seed"]:3d}  {row["crashed"]} crashes: {row["fault_free"]:.1f} -> {row["crash"]:.1f} % '
              f'({row["crash_delta"]:+.1f}){control}')
    print('crash - fault-free, points:', summary([r['crash_delta'] for r in rows]))
    if not args.no_control:
        print('fp16 - fp32 (control), points:', summary([r['fp16_delta'] for r in rows]))
    (args.out / 'crash_cost.json').write_text(json.dumps(rows, indent=1))


if __name__ == '__main__':
    main()
