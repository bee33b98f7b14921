"""The `mtf-grasp` command. Each subcommand lives in `mtf_grasp.commands.<name>` and exposes
`register(subparsers)`, which adds its parser and sets `run=callable(args) -> int`.
Command modules import heavy libraries (torch, rclpy, mujoco) inside `run`, so `--help` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from mtf_grasp import __version__, commands
from mtf_grasp.errors import InputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='mtf-grasp',
        description='Multi-tier federated grasp learning for ROS 2 robot fleets.')
    parser.add_argument('--version', action='version', version=f'mtf-grasp {__version__}')
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f'{commands.__name__}.{info.name}').register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except InputError as exc:
        print(f'mtf-grasp {args.command}: error: {exc}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f'mtf-grasp {args.command}: interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
