"""The `mtf-grasp` entry point: every contract subcommand is listed, bad input exits non-zero."""
import subprocess
import sys

CONTRACT = ['dataset', 'train', 'evaluate', 'experiment', 'fleet', 'bag', 'bench', 'export-onnx', 'sim-trials', 'study',
            'pick-trials']


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


def test_study_bad_seeds_and_unknown_preset_are_one_line_errors():
    result = run_cli('study', '--config', 'config/studies/quantity_skew.yaml', '--seeds', 'a-b', '--out', 'unused')
    assert result.returncode == 2 and result.stderr.count('\n') == 1 and '--seeds' in result.stderr
    result = run_cli('study', '--config', 'config/studies/quantity_skew.yaml', '--seeds', '0', '--out', 'unused',
                     '--preset', 'tpu')
    assert result.returncode == 2 and "no preset 'tpu'" in result.stderr


def test_fleet_bad_attack_is_a_one_line_error(tmp_path):
    result = run_cli('fleet', '--config', 'config/fleet.yaml', '--out', str(tmp_path), '--attack', 'robot_1:steal')
    assert result.returncode == 2 and result.stderr.count('\n') == 1, result.stderr
    assert "--attack: 'robot_1:steal' is not ROBOT:KIND" in result.stderr
