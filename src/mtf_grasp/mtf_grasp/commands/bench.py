"""`mtf-grasp bench inference|transfer|round|scale`: dispatches to the modules of mtf_grasp.bench."""
from __future__ import annotations

import importlib
import json
import pkgutil

from mtf_grasp import bench


def register(subparsers) -> None:
    parser = subparsers.add_parser('bench', help='measure inference, model transfer, round overhead, scaling')
    benches = parser.add_subparsers(dest='bench', required=True, metavar='BENCH')
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith('_'):
            continue
        module = importlib.import_module(f'{bench.__name__}.{info.name}')
        sub = benches.add_parser(info.name, help=(module.__doc__ or '').strip().splitlines()[0])
        module.add_arguments(sub)
        sub.add_argument('--json', action='store_true', help='print the figures as one JSON object')
        sub.set_defaults(run=_runner(module))


def _runner(module):
    def run(args) -> int:
        figures = module.run(args)
        if args.json:
            print(json.dumps(figures, indent=2))
        else:
            width = max(map(len, figures), default=0)
            for key, value in figures.items():
                print(f'{key:<{width}}  {value}')
        return 0
    return run
