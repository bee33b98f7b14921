"""`mtf-grasp dataset generate|stats` end to end through the CLI, in separate processes."""
import json
import subprocess
import sys

import pytest


def run_cli(*args):
    return subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_generate_three_scenes_with_two_workers_matches_in_process_output(simgrasp_3, tmp_path):
    out = tmp_path / 'sg'
    result = run_cli('dataset', 'generate', '--out', str(out), '--scenes', '3', '--seed', '0',
                     '--workers', '2', '--json')
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest['samples'] == 3 and manifest['grasps'] > 0
    for path in simgrasp_3.iterdir():   # worker count does not change a single byte
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.slow  # the grasping package imports torch
def test_stats_reports_the_simgrasp_layout(simgrasp_3):
    result = run_cli('dataset', 'stats', str(simgrasp_3), '--json')
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    manifest = json.loads((simgrasp_3 / 'manifest.json').read_text())
    assert stats['format'] == 'simgrasp'
    assert stats['samples'] == 3 and stats['grasps'] == manifest['grasps']


@pytest.mark.parametrize('args, message', [
    (['--scenes', '0'], '--scenes: must be at least 1, got 0'),
    (['--scenes', '2', '--workers', '0'], '--workers: must be at least 1, got 0'),
    (['--scenes', '2', '--seed', '-3'], '--seed: must be at least 0, got -3'),
])
def test_bad_generate_arguments_are_one_line_errors(tmp_path, args, message):
    result = run_cli('dataset', 'generate', '--out', str(tmp_path / 'x'), *args)
    assert result.returncode == 2
    assert result.stderr.strip() == f'mtf-grasp dataset: error: {message}'


def test_output_path_that_is_a_file_is_rejected(tmp_path):
    target = tmp_path / 'taken'
    target.write_text('')
    result = run_cli('dataset', 'generate', '--out', str(target), '--scenes', '1')
    assert result.returncode == 2
    assert f'{target}: exists and is not a directory' in result.stderr
    assert 'Traceback' not in result.stderr


def test_a_folder_holding_other_files_is_refused(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    result = run_cli('dataset', 'generate', '--out', str(tmp_path), '--scenes', '1')
    assert result.returncode == 2
    assert f'{tmp_path}: not empty and not a SimGrasp dataset of seed 0 with 1 scenes' in result.stderr
    assert (tmp_path / 'notes.txt').read_text() == 'mine'

