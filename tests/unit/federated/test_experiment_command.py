"""`mtf-grasp experiment` end to end on a small real dataset: JSON contract, files, determinism."""
import json
import subprocess
import sys

import pytest
import yaml

from mtf_grasp.cli import main

METHODS = ['fedavg', 'fednova', 'mtf_avg', 'mtf_nova', 'centralized', 'local_only']


def write_config(path, root, **extra):
    config = {'name': 'tiny', 'seed': 3, 'methods': METHODS,
              'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32},
              'data': {'root': str(root), 'test_fraction': 0.2},
              'partition': {'method': 'quantity_skew', 'robots': 4, 'beta': 0.7, 'min_samples': 5},
              'federation': {'rounds': 5, 'top_level': 1, 'seed_epochs': 1, 'local_epochs': 2},
              'training': {'lr': 0.002, 'batch_size': 8},
              'quick': {'federation': {'rounds': 2, 'local_epochs': 1}}, **extra}
    path.write_text(yaml.safe_dump(config))
    return path


def experiment(*args):
    return subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'experiment', '--no-progress', *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_quick_experiment_writes_the_contract(tmp_path, tiny_simgrasp):
    config = write_config(tmp_path / 'tiny.yaml', tiny_simgrasp)
    run = experiment('--config', str(config), '--quick', '--out', str(tmp_path / 'a'), '--json')
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert list(result['methods']) == METHODS
    for method, entry in result['methods'].items():
        assert len(entry['accuracy_per_round']) == 2   # quick: rounds 5 -> 2
        assert entry['final_accuracy'] == entry['accuracy_per_round'][-1]
        assert 0.0 <= entry['final_accuracy'] <= 1.0
        params = entry['params']
        assert params > 10_000
        for summary in entry['bytes_per_round']:
            moved = 0 if method in ('centralized', 'local_only') else 2 * 4 * params * 4
            assert summary['parameter_bytes'] == moved
    assert sorted(result['methods']['local_only']['per_robot_accuracy']) == [f'robot_{i}' for i in range(4)]
    assert [s['robot_id'] for s in result['scores']][0] == result['assignment']['top_level'][0]
    assert sum(s['samples'] for s in result['scores']) == 72
    members = [m for ms in result['assignment']['clusters'].values() for m in ms]
    assert len(members) == 3
    out = tmp_path / 'a'
    for name in ('accuracy_per_round.png', 'per_robot_accuracy.png', 'importance_ranking.png'):
        assert (out / name).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    table = (out / 'table.md').read_text()
    assert '| MTF-Grasp-Avg |' in table and '| FedAvg |' in table
    assert json.loads((out / 'results.json').read_text())['methods'] == result['methods']

    # The same manifest and seed reproduce every number.
    again = experiment('--config', str(config), '--quick', '--out', str(tmp_path / 'b'), '--json',
                       '--manifest', str(out / 'partition.json'))
    assert again.returncode == 0, again.stderr
    repeat = json.loads(again.stdout)
    for method in METHODS:
        assert repeat['methods'][method]['accuracy_per_round'] == result['methods'][method]['accuracy_per_round']
        assert repeat['methods'][method]['per_robot_accuracy'] == result['methods'][method]['per_robot_accuracy']


def test_bad_config_is_one_line_error(tmp_path, tiny_simgrasp, capsys):
    def fails(config):
        assert main(['experiment', '--config', str(config), '--out', str(tmp_path / 'o')]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f'mtf-grasp experiment: error: {config}')
        return lines[0]

    config = write_config(tmp_path / 'bad.yaml', tiny_simgrasp, federation={'top_level': 9})
    assert fails(config).endswith('federation.top_level j=9 must lie in [1, n-1] for partition.robots n=4')
    assert "unknown method 'scaffold'" in fails(
        write_config(tmp_path / 'bad2.yaml', tiny_simgrasp, methods=['fedavg', 'scaffold']))
    good = write_config(tmp_path / 'good.yaml', tiny_simgrasp)
    assert main(['experiment', '--config', str(good), '--out', str(tmp_path / 'o'), '--crash', 'robot_9:0']) == 2
    assert capsys.readouterr().err.strip() == ("mtf-grasp experiment: error: --crash: crashed robot 'robot_9' "
                                                "is not one of robot_0, robot_1, robot_2, robot_3")
    assert 'cannot partition' in fails(
        write_config(tmp_path / 'bad3.yaml', tiny_simgrasp, partition={'robots': 7, 'min_samples': 20}))
