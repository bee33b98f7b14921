"""Every concrete command the README and docs/ print (`mtf-grasp ...`, `python benchmarks/...`) is
accepted by the parser of the program it names, so a renamed option or subcommand cannot leave a
figure's command behind. Synopses with placeholders (`--trials N`, `[--rounds R]`) are skipped.
Every `ros2 launch mtf_grasp FILE name:=value` names a launch file and arguments it declares."""
from __future__ import annotations

import argparse
import re
import runpy
import shlex
from pathlib import Path

import pytest

from mtf_grasp.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
START = re.compile(r'^(?:\$ )?((?:mtf-grasp|python3? benchmarks/|ros2 launch )\S*.*)$')
PLACEHOLDER = re.compile(r'^[A-Z][A-Z_]*$|[\[\]$]|\.\.\.|\|')
SEQ = re.compile(r'\$\(seq (\d+) (\d+)\)')   # the one shell expansion the docs use


def documented_commands() -> list[tuple[str, list[str]]]:
    """(file, argv) of each command line in a Markdown file, continuation lines joined, shell
    plumbing and comments cut off, synopses left out."""
    found = []
    for path in [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]:
        lines, fenced = path.read_text().splitlines(), False
        for i, line in enumerate(lines):
            fenced ^= line.lstrip().startswith('```')
            code = fenced or line.startswith('    ')
            match = START.match(line.strip())
            if not code or not match or (i and lines[i - 1].rstrip().endswith('\\')):
                continue
            command, j = match.group(1), i
            while command.endswith('\\') and j + 1 < len(lines):
                j += 1
                command = command[:-1] + ' ' + lines[j].strip()
            command = re.split(r'\s#|\s(?:&&|\||;|>|2>)\s', command)[0]
            command = SEQ.sub(lambda m: ' '.join(map(str, range(int(m[1]), int(m[2]) + 1))), command)
            argv = shlex.split(command)
            if argv[0] == 'ros2' or not any(PLACEHOLDER.search(token) for token in argv):   # launch: names only
                found.append((path.name, argv))
    return found


COMMANDS = documented_commands()


class _Parsed(Exception):
    """Raised once a benchmark's arguments parsed, before the benchmark runs."""


def test_the_docs_hold_commands_of_every_kind():
    kinds = {argv[0] for _, argv in COMMANDS}
    assert len(COMMANDS) > 50 and kinds >= {'mtf-grasp', 'python', 'ros2'}, kinds


@pytest.mark.parametrize('where,argv', COMMANDS, ids=[f'{f}:{" ".join(a)[:70]}' for f, a in COMMANDS])
def test_documented_command_parses(where, argv, monkeypatch):
    if argv[0] == 'mtf-grasp':
        build_parser().parse_args(argv[1:])
        return
    if argv[0] == 'ros2':
        launch_arguments_are_declared(where, argv)
        return
    script = ROOT / argv[1]
    assert script.is_file(), f'{where}: no {argv[1]}'
    parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        parse(self, args, namespace)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, 'parse_args', parse_then_stop)
    monkeypatch.setattr('sys.argv', [str(script), *argv[2:]])
    monkeypatch.syspath_prepend(str(script.parent))
    with pytest.raises(_Parsed):
        runpy.run_path(str(script), run_name='__main__')


def launch_arguments_are_declared(where: str, argv: list[str]) -> None:
    pytest.importorskip('launch', reason='launch is built from ../shared/ros2-from-source (docs/testing.md)')
    package, name, *arguments = argv[2:]
    path = ROOT / 'launch' / name
    assert package == 'mtf_grasp' and path.is_file(), f'{where}: no launch file {package}/{name}'
    description = runpy.run_path(str(path))['generate_launch_description']()
    declared = {argument.name for argument in description.get_launch_arguments()}
    given = {argument.partition(':=')[0] for argument in arguments}
    assert given <= declared, f'{where}: {name} declares no {", ".join(sorted(given - declared))}'
