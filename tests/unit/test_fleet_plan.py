"""The fleet plan from config/fleet.yaml, its summary, and the per-round inbox (no DDS needed)."""
import importlib
import json
import math
import os
from importlib.metadata import entry_points

import pytest
import yaml

from mtf_grasp.errors import InputError
from mtf_grasp.fleet import fleet_nodes, load_fleet_config, prepare_fleet
from mtf_grasp.nodes.inbox import RoundInbox
from mtf_grasp.nodes.round_report import RoundReport, critical_training_s, read_records, summarize
from mtf_grasp.plan import executable_path

ROBOTS = ['robot_0', 'robot_1', 'robot_2', 'robot_10']


def write_fleet(tmp_path, **fleet):
    """An experiment config, a manifest of four robots and a fleet config naming both."""
    experiment = {'seed': 5, 'methods': ['mtf_avg'], 'data': {'root': 'data/boxes'},
                  'partition': {'robots': 4}, 'federation': {'rounds': 4, 'top_level': 2}}
    (tmp_path / 'experiments').mkdir()
    (tmp_path / 'experiments' / 'small.yaml').write_text(yaml.safe_dump(experiment))
    manifest = {'dataset': 'boxes', 'seed': 5, 'method': 'quantity_skew', 'test': ['t0'],
                'robots': {robot: [f'{robot}_s{i}' for i in range(3)] for robot in ROBOTS}}
    (tmp_path / 'partition.json').write_text(json.dumps(manifest))
    path = tmp_path / 'fleet.yaml'
    path.write_text(yaml.safe_dump({'experiment': 'experiments/small.yaml', 'manifest': 'partition.json', **fleet}))
    return path


def test_mtf_plan_has_a_server_and_a_client_and_coordinator_per_robot(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    setup = prepare_fleet(write_fleet(tmp_path, method='mtf_avg'), out_dir=tmp_path / 'run')
    specs = fleet_nodes(setup)
    assert [(s.executable, s.namespace) for s in specs[:3]] == [
        ('fl_server', ''), ('fl_client', 'robot_0'), ('tier_coordinator', 'robot_0')]
    assert len(specs) == 1 + 2 * len(ROBOTS)
    assert len({s.name for s in specs}) == len(specs), 'node names must be unique for the supervisor'
    assert [s.parameters['robot_id'] for s in specs if s.executable == 'fl_client'] == \
        ['robot_0', 'robot_1', 'robot_2', 'robot_10']  # robot_10 after robot_2
    server = specs[0].parameters
    assert server['robots'] == ['robot_0', 'robot_1', 'robot_2', 'robot_10']
    assert server['rounds'] == 4 and server['seed'] == 5  # from the experiment
    assert server['data_root'] == str(tmp_path / 'data' / 'boxes')  # relative to the working dir
    assert server['manifest'] == str(tmp_path / 'partition.json')
    assert server['summary_file'] == str(tmp_path / 'run' / 'summary.json')


def test_flat_methods_run_no_tier_coordinators_and_rounds_can_be_overridden(tmp_path):
    setup = prepare_fleet(write_fleet(tmp_path, method='fedavg', rounds=2), out_dir=tmp_path / 'run', rounds=7)
    specs = fleet_nodes(setup)
    assert {s.executable for s in specs} == {'fl_server', 'fl_client'}
    assert {s.parameters['rounds'] for s in specs} == {7}
    assert {s.parameters['method'] for s in specs} == {'fedavg'}


def test_every_executable_of_the_plan_is_an_installed_entry_point(tmp_path):
    setup = prepare_fleet(write_fleet(tmp_path), out_dir=tmp_path / 'run')
    scripts = {ep.name: ep.value for ep in entry_points(group='console_scripts')}
    for spec in fleet_nodes(setup):
        path = executable_path(spec)
        assert path.is_file() and os.access(path, os.X_OK), f'{path} is not an installed executable'
        module, _, function = scripts[spec.executable].partition(':')
        assert callable(getattr(importlib.import_module(module), function))


@pytest.mark.parametrize('fleet, message', [
    ({'method': 'fedsgd'}, "method 'fedsgd'"),
    ({'transport': {'round_timeout_s': 0}}, 'round_timeout_s must be positive'),
    ({'transport': {'retries': 3}}, "fleet.yaml.transport: unknown field 'retries'"),
    ({'rounds': 'three'}, 'fleet.yaml.rounds'),
])
def test_bad_fleet_configs_name_the_field(tmp_path, fleet, message):
    with pytest.raises(InputError, match=message.replace('(', r'\(')):
        load_fleet_config(write_fleet(tmp_path, **fleet))


def test_a_missing_experiment_file_names_the_fleet_config(tmp_path):
    path = write_fleet(tmp_path)
    path.write_text(yaml.safe_dump({'experiment': 'experiments/nope.yaml'}))
    with pytest.raises(InputError, match=r'fleet.yaml: experiment: no such file .*nope.yaml'):
        prepare_fleet(path, out_dir=tmp_path / 'run')


def test_rounds_override_must_be_positive(tmp_path):
    with pytest.raises(InputError, match='rounds: must be at least 1'):
        load_fleet_config(write_fleet(tmp_path), rounds=0)


def test_summary_counts_each_transfer_once_and_splits_the_round_time(tmp_path):
    server, coordinator, client = (RoundReport(str(tmp_path), name) for name in ('server', 'a.c', 'b.c'))
    server.transfer(round_index=0, sender='a', receiver='server', payload_bytes=100)
    coordinator.transfer(round_index=0, sender='server', receiver='a', payload_bytes=100)
    coordinator.transfer(round_index=0, sender='b', receiver='a', payload_bytes=100)
    client.transfer(round_index=0, sender='a', receiver='b', payload_bytes=100)
    coordinator.training(round_index=0, robot_id='a', role='seed', seconds=2.0)
    client.training(round_index=0, robot_id='b', role='fine_tune', seconds=3.0)
    server.round(round=0, method='mtf_avg', global_accuracy=0.5, participants=['a', 'b'], duration_s=6.0,
                 evaluation_s=0.5, global_sha256='ab', clusters={'a': ['b']},
                 ranking=[{'robot_id': 'a'}, {'robot_id': 'b'}])
    summary = summarize(read_records(tmp_path))
    (only,) = summary['rounds']
    assert only['bytes_sent'] == 300      # a->server, b->a, a->b: robots' uplinks and seeds
    assert only['bytes_received'] == 300  # server->a, b->a, a->b
    assert only['training_s'] == 5.0      # seed 2 s then fine-tuning 3 s on the critical path
    assert math.isclose(only['overhead_s'], 0.5)
    assert summary['final_accuracy'] == 0.5 and summary['final_sha256'] == 'ab'
    assert [r['robot_id'] for r in summary['ranking']] == ['a', 'b']


def test_critical_path_of_a_flat_round_is_the_slowest_robot():
    assert critical_training_s({'a': 1.0, 'b': 4.0}, {}, ['a', 'b']) == 4.0
    assert critical_training_s({'a': 1.0, 'b': 4.0, 'c': 2.0}, {'a': ['b'], 'c': []}, ['a', 'b', 'c']) == 5.0


def test_inbox_refuses_other_rounds_strangers_and_duplicates_and_keeps_sender_order():
    inbox = RoundInbox(round_index=3, senders=['b', 'a'])
    assert 'round 2' in inbox.refusal(round_index=2, sender='a')
    assert 'not expected' in inbox.refusal(round_index=3, sender='z')
    assert inbox.add(round_index=3, sender='a', item='from a') is None
    assert 'already submitted' in inbox.add(round_index=3, sender='a', item='again')
    assert not inbox.wait(0.01) and inbox.missing() == ['b']
    assert inbox.add(round_index=3, sender='b', item='from b') is None
    assert inbox.wait(0.01) and inbox.items() == ['from b', 'from a']
