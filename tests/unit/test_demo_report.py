"""The demo's report from a fleet run directory (no ROS): the plot, the closing summary, bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest

from mtf_grasp.demo.report import closing_summary, final_model, load_summary, plot_rounds
from mtf_grasp.errors import InputError


def _run_dir(tmp_path, curve=(0.1, 0.3, 0.45)):
    run = tmp_path / 'run'
    (run / 'checkpoints').mkdir(parents=True)
    rounds = [{'round': k, 'global_accuracy': a} for k, a in enumerate(curve)]
    (run / 'summary.json').write_text(json.dumps({'method': 'mtf_avg', 'rounds': rounds,
                                                  'final_accuracy': curve[-1]}))
    (run / 'checkpoints' / 'latest.json').write_text(json.dumps({'round': len(curve) - 1,
                                                                 'file': 'round_0002.safetensors'}))
    return run


def test_plot_and_closing_summary_name_the_files(tmp_path):
    run = _run_dir(tmp_path)
    plot = plot_rounds(load_summary(run), run / 'accuracy_per_round.png')
    assert cv2.imread(str(plot)).shape[2] == 3
    images = [run / 'grasps' / f'grasps_{k:02d}.png' for k in range(2)]
    text = closing_summary(run_dir=run, images=images, plot=plot, heldout=(0.5, 12))
    assert 'MTF-Grasp-Avg, 3 rounds' in text and 'final global accuracy 0.450' in text
    assert str(plot) in text and str(run / 'summary.json') in text
    assert str(run / 'checkpoints' / 'round_0002.safetensors') in text and str(final_model(run)) in text
    assert 'scenes the fleet never saw (2 images); its accuracy on 12 such scenes: 0.500' in text
    assert f'{images[0]} .. grasps_01.png' in text


@pytest.mark.parametrize('damage, message', [
    (lambda run: (run / 'summary.json').unlink(), r'summary.json: no fleet summary \(did the fleet run finish\?\)'),
    (lambda run: (run / 'summary.json').write_text('{"rounds": []}'), 'summary.json: no rounds recorded'),
    (lambda run: (run / 'summary.json').write_text('{'), 'summary.json: not JSON'),
])
def test_a_broken_run_directory_is_named(tmp_path, damage, message):
    run = _run_dir(tmp_path)
    damage(run)
    with pytest.raises(InputError, match=message):
        load_summary(run)


def test_the_command_gives_one_line_and_exit_2_without_a_run(tmp_path):
    proc = subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'demo', 'report', '--run', str(tmp_path / 'nope'),
                           '--grasps', str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f'mtf-grasp demo: error: {tmp_path}/nope/summary.json: no fleet summary ' \
                                  '(did the fleet run finish?)'
