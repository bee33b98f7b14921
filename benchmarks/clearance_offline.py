"""The clearance check scored offline: `mtf-grasp evaluate --protocol deploy` with and without
`--clearance` on the same scenes, and the per-scene paired difference (95 % t-interval).

The clearance check re-ranks grasp_inference's 5 candidates so that grasps whose finger footprints
the depth image shows blocked go last; the rectangle metric then scores the first. Resumable: an
evaluation whose JSON exists in --work is not run again.

    python benchmarks/clearance_offline.py --model runs/pick_model/model.safetensors \
        --data data/simgrasp_2300 --samples 1300:2300 --work runs/clearance_offline \
        --out docs/results/clearance_offline.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from mtf_grasp.federated.statistics import paired_difference
from mtf_grasp.grasping.device import describe_machine


def evaluation(work: Path, name: str, args, extra: list[str]) -> dict:
    path = work / f'{name}.json'
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'evaluate', '--model', args.model,
                               '--data', args.data, '--samples', args.samples, '--json', *extra],
                              check=True, capture_output=True, text=True)
        path.write_text(done.stdout)
    return json.loads(path.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', required=True)
    parser.add_argument('--data', required=True)
    parser.add_argument('--samples', default=':')
    parser.add_argument('--work', required=True, help='folder for the two evaluations (resumable)')
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    work = Path(args.work)
    plain = evaluation(work, 'plain', args, [])
    clear = evaluation(work, 'clearance', args, ['--clearance'])
    if plain['samples'] != clear['samples']:
        raise SystemExit(f'the evaluations scored {plain["samples"]} and {clear["samples"]} samples')
    names = sorted(set(plain['successes']) | set(clear['successes']))
    # Scenes neither run got right count as 0 − 0 in the mean; they only enter through the sample count.
    failed_by_both = plain['samples'] - len(names)
    with_check = [float(n in clear['successes']) for n in names] + [0.0] * failed_by_both
    without = [float(n in plain['successes']) for n in names] + [0.0] * failed_by_both
    result = {'command': ' '.join(sys.argv), 'cpu': describe_machine('cpu', 'fp32')['cpu'],
              'samples': plain['samples'], 'accuracy_without': plain['accuracy'], 'accuracy_with': clear['accuracy'],
              'clearance': clear['clearance'],
              'only_without': sorted(set(plain['successes']) - set(clear['successes'])),
              'only_with': sorted(set(clear['successes']) - set(plain['successes'])),
              'paired_difference': paired_difference(with_check, without)}
    Path(args.out).write_text(json.dumps(result, indent=1) + '\n')
    diff = result['paired_difference']
    print(f'top-1 without the check {plain["accuracy"]:.3f}, with it {clear["accuracy"]:.3f} on {plain["samples"]} '
          f'scenes: {diff["mean_pp"]:+.1f} points [{diff["ci95_pp"][0]:+.1f}, {diff["ci95_pp"][1]:+.1f}] '
          f'({len(result["only_without"])} scenes lost, {len(result["only_with"])} gained)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
