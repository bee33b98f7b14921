"""The `mtf-grasp` entry point: every contract subcommand is listed, bad input exits non-zero."""
import subprocess
import sys

CONTRACT = ['dataset', 'train', 'evaluate', 'experiment', 'fleet', 'bag', 'bench', 'export-onnx', 'sim-trials']


def run_cli(*args):
    return subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', *args],
                          capture_output=True, text=True, timeout=120)


def test_help_lists_every_contract_subcommand():
    result = run_cli('--help')
    assert result.returncode == 0, result.stderr
    for command in CONTRACT:
        assert command in result.stdout, f'{command} missing from `mtf-grasp --help`'


def test_unknown_subcommand_is_a_usage_error():
    result = run_cli('no-such-command')
    assert result.returncode == 2
    assert 'invalid choice' in result.stderr
