"""How the fleet's round time and overhead grow with the number of robots n."""
from __future__ import annotations

from mtf_grasp.bench.round import DEFAULT_CONFIG, measure_rounds


def add_arguments(parser) -> None:
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='fleet YAML (default: %(default)s)')
    parser.add_argument('--robots', type=int, nargs='+', default=[3, 5, 7], help='fleet sizes n to run')
    parser.add_argument('--rounds', type=int, default=2, help='rounds per fleet; the first is not counted')


def run(args) -> dict:
    runs = [measure_rounds(args.config, rounds=args.rounds, robots=n, out=None) for n in args.robots]
    return {'robots': [r['robots'] for r in runs], 'round_s': [r['round_s'] for r in runs],
            'overhead_s': [r['overhead_s'] for r in runs], 'overhead_ratio': [r['overhead_ratio'] for r in runs]}
