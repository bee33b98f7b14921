"""Round wall time of the real multi-process fleet, split into local training, evaluation and overhead."""
from __future__ import annotations

import statistics
import tempfile

DEFAULT_CONFIG = 'config/fleet.yaml'


def add_arguments(parser) -> None:
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='fleet YAML (default: %(default)s; '
                        '`make demo` generates its data)')
    parser.add_argument('--rounds', type=int, default=3,
                        help='rounds to run; the first warms up (imports, caches) and is not counted')
    parser.add_argument('--robots', type=int, default=None, help="robots n (default: the config's)")
    parser.add_argument('--out', default=None, help='run directory (default: a temporary one)')


def run(args) -> dict:
    return measure_rounds(args.config, rounds=args.rounds, robots=args.robots, out=args.out)


def measure_rounds(config: str, *, rounds: int, robots: int | None, out: str | None) -> dict:
    """Mean figures over the rounds after the first: `overhead_s` is the round's wall time less
    the training on its critical path and the server's evaluation."""
    from mtf_grasp.fleet import prepare_fleet, run_fleet

    with tempfile.TemporaryDirectory(prefix='mtf-bench-round-') as scratch:
        setup = prepare_fleet(config, out_dir=out or scratch, rounds=rounds, robots=robots)
        summary = run_fleet(setup)
    counted = summary['rounds'][1:] or summary['rounds']
    figures = {key: statistics.mean(r[key] for r in counted)
               for key in ('duration_s', 'training_s', 'evaluation_s', 'overhead_s')}
    return {'round_s': round(figures['duration_s'], 3), 'training_s': round(figures['training_s'], 3),
            'evaluation_s': round(figures['evaluation_s'], 3), 'overhead_s': round(figures['overhead_s'], 3),
            'overhead_ratio': round(figures['overhead_s'] / figures['duration_s'], 4),
            'robots': len(setup.robots), 'method': summary['method'], 'rounds_counted': len(counted)}
