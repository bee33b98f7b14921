"""`mtf-grasp fleet`: the real multi-process fleet over loopback DDS ends with the experiment's model."""
import json
import subprocess
import sys

import pytest

from fleet_testdata import (assert_round_timelines, assert_same_state, experiment_rounds, fleet_final_state, fleet_matches_experiment,
                            run_fleet, write_configs, write_jacquard_boxes)

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.mark.parametrize('method', ['mtf_avg', 'mtf_nova', 'fednova'])
def test_two_round_fleet_ends_with_the_experiments_global_model(ros_processes, tmp_path, method):
    data = write_jacquard_boxes(tmp_path / 'data', samples=40)
    config = write_configs(tmp_path, data=data, robots=4, rounds=2, method=method)
    summary = run_fleet(ros_processes, config, tmp_path / 'run')

    robots = ['robot_0', 'robot_1', 'robot_2', 'robot_3']
    assert summary['method'] == method
    assert [r['round'] for r in summary['rounds']] == [0, 1]
    for record in summary['rounds']:
        assert record['participants'] == robots
        assert record['bytes_sent'] > 0 and record['bytes_received'] > 0
        assert record['duration_s'] >= record['training_s'] > 0
    assert sorted(r['robot_id'] for r in summary['ranking']) == robots

    state, accuracies, sent = experiment_rounds(tmp_path / 'experiment.yaml', tmp_path / 'run' / 'partition.json',
                                                method)
    assert_same_state(fleet_final_state(tmp_path / 'run', 2), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
    assert summary['final_accuracy'] == pytest.approx(accuracies[-1])
    assert [r['bytes_sent'] for r in summary['rounds']] == sent
    assert_round_timelines(summary)


@pytest.mark.parametrize('federation', [{'tier_aggregate': 'members_only', 'fedbn': True},
                                        {'coordinator_epochs': 'seed_then_local', 'local_epochs': 2}],
                         ids=['members_only_fedbn', 'seed_then_local'])
def test_the_fleet_follows_its_experiments_eq8_reading_and_fedbn(ros_processes, tmp_path, federation):
    fleet_matches_experiment(ros_processes, tmp_path, federation=federation)


def test_a_node_that_fails_fails_the_run_and_stops_the_others(ros_processes, tmp_path):
    data = write_jacquard_boxes(tmp_path / 'data', samples=20)
    config = write_configs(tmp_path, data=data, robots=3, rounds=1)
    names = sorted(path.name[:-len('_grasps.txt')] for path in data.glob('*_grasps.txt'))
    manifest = {'dataset': str(data), 'seed': 0, 'method': 'quantity_skew', 'test': names[:4],
                'robots': {'robot_0': names[4:10], 'robot_1': names[10:16], 'robot_2': ['no_such_sample']}}
    (tmp_path / 'bad.json').write_text(json.dumps(manifest))
    config.write_text(config.read_text() + 'manifest: bad.json\n')
    proc = ros_processes.start([sys.executable, '-m', 'mtf_grasp.cli', 'fleet', '--config', str(config),
                                '--out', str(tmp_path / 'run'), '--quiet', '--timeout', '120'], name='fleet')
    proc.wait(timeout=150)
    log = ros_processes.log(proc)
    assert proc.returncode == 1, log
    assert 'exited with code 2' in log and "no sample named 'no_such_sample'" in log
    params = str(tmp_path / 'run' / 'params.yaml')
    leftovers = subprocess.run(['pgrep', '-f', params], capture_output=True, text=True).stdout.split()
    assert not leftovers, f'nodes still running: {leftovers}'
