"""What one client crash costs MTF-Grasp-Avg, and the run-to-run noise to read it against.

For each seed: the fault-free run of config/experiments/quantity_skew_crash.yaml; the same run with
the largest low-level robot of that seed's plan crashing in round 1 (`--crash ROBOT:1`); and the
fp16-transfer control (quantity_skew_crash_fp16.yaml), which loses no data but nudges the
trajectory. Prints one row per seed and the paired differences (mean, sample sd, 95 % t-interval),
and writes them with every row to --results.

    python benchmarks/crash_cost.py --seeds 0 1 2 3 4 --out runs/crash_cost \
        --results docs/results/crash_cost.json [--jobs 2] [--no-control]

Needs data/simgrasp_1500 (mtf-grasp dataset generate --out data/simgrasp_1500 --scenes 1500 --seed 1).
Each run takes about 1.5 minutes on two cores.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mtf_grasp.federated.statistics import paired_difference
from mtf_grasp.grasping.device import describe_machine

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
        row['fp16'] = experiment('quantity_skew_crash_fp16.yaml', seed, out / f'fp16_{seed}')
        row['fp16_delta'] = row['fp16'] - free
    return row


def difference(rows: list[dict], key: str) -> dict:
    """The paired difference of the `key` runs from the fault-free ones, in points, and how many
    seeds land within 2 points of their fault-free run."""
    diff = paired_difference([r[key] / 100 for r in rows], [r['fault_free'] / 100 for r in rows])
    return {**diff, 'within_2_points': sum(abs(r[key] - r['fault_free']) <= 2 for r in rows)}


def summary(diff: dict) -> str:
    if diff['ci95_pp'] is None:
        return f'{diff["mean_pp"]:+.1f}'
    low, high = diff['ci95_pp']
    return (f'{diff["mean_pp"]:+.2f} [{low:+.2f}, {high:+.2f}] (sd {diff["sd_pp"]:.2f}; '
            f'within 2 points in {diff["within_2_points"]}/{diff["seeds"]})')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', required=True)
    parser.add_argument('--out', type=Path, required=True, help='work folder of the runs (resumable)')
    parser.add_argument('--results', type=Path, help='JSON of the rows and differences (default: OUT/crash_cost.json)')
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
    result = {'command': ' '.join(sys.argv), 'cpu': describe_machine('cpu', 'fp32')['cpu'], 'rows': rows,
              'crash_vs_fault_free': difference(rows, 'crash')}
    print('crash - fault-free, points:', summary(result['crash_vs_fault_free']))
    if not args.no_control:
        result['fp16_vs_fp32'] = difference(rows, 'fp16')
        print('fp16 - fp32 (control), points:', summary(result['fp16_vs_fp32']))
    (args.results or args.out / 'crash_cost.json').write_text(json.dumps(result, indent=1) + '\n')


if __name__ == '__main__':
    main()
