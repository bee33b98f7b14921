"""A stranger on the fleet's DDS domain cannot change the global model: its forged registration
and poisoned submissions (as itself, as a robot with a key of its own, unsigned) are refused with
a reason, counted in /fleet/status, and the fleet ends with exactly the experiment's model."""
import json
from pathlib import Path

import pytest

from fleet_testdata import (assert_same_state, experiment_rounds, fleet_final_state, run_fleet, write_configs,
                            write_jacquard_boxes)

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_a_stranger_is_refused_and_the_global_model_is_the_fault_free_one(ros_processes, tmp_path):
    data = write_jacquard_boxes(tmp_path / 'data', samples=30)
    config = write_configs(tmp_path, data=data, robots=3, rounds=2, method='fedavg')
    answers = tmp_path / 'stranger.jsonl'
    stranger = ros_processes.python(Path(__file__).with_name('stranger_node.py'), str(answers), '2', name='stranger')
    summary = run_fleet(ros_processes, config, tmp_path / 'run')
    stranger.wait(timeout=60)
    entries = [json.loads(line) for line in answers.read_text().splitlines()]

    (registration,) = [e for e in entries if e['kind'] == 'register']
    assert not registration['accepted'] and 'signature does not match' in registration['message']
    submissions = [e for e in entries if e['kind'] == 'submit']
    assert [(e['round'], e['sender']) for e in submissions] == [
        (r, sender) for r in (0, 1) for sender in ('mallory', 'robot_0', 'robot_1')]
    assert not any(e['accepted'] for e in submissions)
    assert [e['message'].split(' ')[0] for e in submissions] == ['unknown_sender', 'bad_signature', 'bad_signature'] * 2
    (status,) = [e for e in entries if e['kind'] == 'status']
    assert status['rejected_submissions'] == len(submissions)
    assert status['last_rejection'] == submissions[-1]['message']

    robots = ['robot_0', 'robot_1', 'robot_2']
    assert [r['participants'] for r in summary['rounds']] == [robots, robots]
    assert status['global_sha256'] == summary['final_sha256']
    (model,) = [e for e in entries if e['kind'] == 'global_model']
    assert model['version'] == 2
    assert model['sha256'] == model['payload_sha256'] == summary['final_sha256']
    state, accuracies, _ = experiment_rounds(tmp_path / 'experiment.yaml', tmp_path / 'run' / 'partition.json',
                                             'fedavg')
    assert_same_state(fleet_final_state(tmp_path / 'run', 2), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
