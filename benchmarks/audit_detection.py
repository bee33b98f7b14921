"""How soon the server's audits catch a coordinator that forges its cluster aggregate.

For each seed, `mtf-grasp experiment` runs MTF-Grasp-Avg on a small quantity-skewed SimGrasp set
with the first top-level robot sending a scale100 model of its aggregate from round 0
(`--attack top:1:forged_aggregate`) and `defences.audit_rate` p; the round of the first
`audit_mismatch` is read from results.json. A forged aggregate is caught whenever its cluster is
audited (tests/unit/federated/test_defended_rounds.py), so the detection round follows the seeded
audit draws: P(caught within r rounds) = 1 − (1 − p)^r for a coordinator that stays top-level.

    mtf-grasp dataset generate --out data/simgrasp_40 --scenes 40 --seed 0
    python benchmarks/audit_detection.py --data data/simgrasp_40 --seeds 20 --rates 0.3,0.5 \
        --out docs/results/audit_detection.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def first_catch(data: str, *, seed: int, rate: float, rounds: int, workdir: Path) -> int | None:
    config = workdir / f'audit_{seed}_{rate}.yaml'
    config.write_text(yaml.safe_dump({
        'name': 'audit_detection', 'seed': seed, 'methods': ['mtf_avg'], 'torch_threads': 1,
        'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32},
        'data': {'root': data, 'test_fraction': 0.2},
        'partition': {'robots': 7, 'min_samples': 2},
        'federation': {'rounds': rounds, 'top_level': 2, 'seed_epochs': 1, 'local_epochs': 1},
        'defences': {'audit_rate': rate}}))
    out = workdir / f'out_{seed}_{rate}'
    subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'experiment', '--config', str(config), '--out', str(out),
                    '--no-progress', '--attack', 'top:1:forged_aggregate'], check=True, stdout=subprocess.DEVNULL)
    run = json.loads((out / 'results.json').read_text())['methods']['mtf_avg']
    return next((r for r, d in enumerate(run['defences_per_round']) if d['audit_mismatch']), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', required=True)
    parser.add_argument('--seeds', type=int, default=20)
    parser.add_argument('--rates', default='0.3')
    parser.add_argument('--rounds', type=int, default=6)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rate in (float(r) for r in args.rates.split(',')):
            caught = [first_catch(args.data, seed=s, rate=rate, rounds=args.rounds, workdir=Path(tmp))
                      for s in range(args.seeds)]
            within3 = sum(c is not None and c < 3 for c in caught)
            results.append({'audit_rate': rate, 'runs': args.seeds, 'rounds': args.rounds,
                            'first_catch_round': caught, 'caught_within_3_rounds': within3,
                            'expected_within_3_rounds': round(args.seeds * (1 - (1 - rate) ** 3), 2)})
            print(f'audit_rate {rate}: caught within 3 rounds in {within3} of {args.seeds} runs '
                  f'(expected {results[-1]["expected_within_3_rounds"]}); first catch per seed: {caught}')
    Path(args.out).write_text(json.dumps({'command': ' '.join(sys.argv), 'results': results}, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
