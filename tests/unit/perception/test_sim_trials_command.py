"""`mtf-grasp sim-trials`: real MuJoCo trials of a model's top grasp; scenes unseen in training."""
import json

import pytest
import torch

from mtf_grasp.cli import main
from mtf_grasp.commands.sim_trials import trial_seed
from mtf_grasp.grasping import ModelSpec, build_model, save_model
from mtf_grasp.sim.generator import scene_seed


@pytest.mark.slow
def test_reports_success_rate_over_physics_trials(tmp_path, capsys):
    torch.manual_seed(0)
    spec = ModelSpec(width=8, input_size=64)
    model = tmp_path / 'm.safetensors'
    save_model(model, build_model(spec), spec)
    assert main(['sim-trials', '--model', str(model), '--trials', '2', '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    assert report['trials'] == 2 and sum(report['reasons'].values()) == 2
    assert report['success_rate'] == report['successes'] / 2 == report['reasons'].get('lifted', 0) / 2


def test_trial_scenes_are_not_generated_training_scenes():
    generated = {scene_seed(seed, index, attempt) for seed in range(3) for index in range(200) for attempt in range(3)}
    assert not generated & {trial_seed(seed, index) for seed in range(3) for index in range(200)}


def test_bad_arguments_exit_2(tmp_path, capsys):
    assert main(['sim-trials', '--model', str(tmp_path / 'none.safetensors'), '--trials', '1']) == 2
    assert 'none.safetensors' in capsys.readouterr().err
    assert main(['sim-trials', '--model', 'x', '--trials', '0']) == 2
