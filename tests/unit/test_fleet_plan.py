"""The fleet plan from config/fleet.yaml, its summary, and the per-round inbox (no DDS needed)."""
import dataclasses
import importlib
import json
import math
import os
import stat
from importlib.metadata import entry_points

import pytest
import yaml

from mtf_grasp.errors import InputError
from mtf_grasp.fleet import fleet_nodes, load_fleet_config, prepare_fleet
from mtf_grasp.nodes.fleet.round_report import RoundReport, critical_training_s, read_records, summarize
from mtf_grasp.nodes.fleet.work_clock import WorkClock
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
    roster = {member: f'keys/{member}.key' for member in ['server', *ROBOTS]}
    path.write_text(yaml.safe_dump({'experiment': 'experiments/small.yaml', 'manifest': 'partition.json',
                                    'roster': roster, **fleet}))
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
    ({'aggregation': 'sideways'}, "aggregation must be one of ordered, streaming, got 'sideways'"),
])
def test_bad_fleet_configs_name_the_field(tmp_path, fleet, message):
    with pytest.raises(InputError, match=message.replace('(', r'\(')):
        load_fleet_config(write_fleet(tmp_path, **fleet))


def test_a_missing_experiment_file_names_the_fleet_config(tmp_path):
    path = write_fleet(tmp_path)
    path.write_text(yaml.safe_dump({'experiment': 'experiments/nope.yaml'}))
    with pytest.raises(InputError, match=r'fleet.yaml: experiment: no such file .*nope.yaml'):
        prepare_fleet(path, out_dir=tmp_path / 'run')


def test_streaming_aggregation_is_refused_with_defences_that_need_every_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_fleet(tmp_path, aggregation='streaming')
    experiment = tmp_path / 'experiments' / 'small.yaml'
    prepare_fleet(path, out_dir=tmp_path / 'run')   # no defences: streams
    experiment.write_text(yaml.safe_dump({**yaml.safe_load(experiment.read_text()),
                                          'defences': {'direction_z': 3, 'norm_bound': {'max_norm': 5.0}}}))
    with pytest.raises(InputError, match=r'fleet.yaml: aggregation: streaming cannot run with defences.direction_z'):
        prepare_fleet(path, out_dir=tmp_path / 'run2')


def test_rounds_override_must_be_positive(tmp_path):
    with pytest.raises(InputError, match='rounds: must be at least 1'):
        load_fleet_config(write_fleet(tmp_path), rounds=0)


def clock(*, wall_s: float, cpu_s: float) -> WorkClock:
    work = WorkClock()
    work.wall_s, work.cpu_s = wall_s, cpu_s
    return work


def test_summary_counts_each_transfer_once_and_splits_the_round_time(tmp_path):
    server, coordinator, client = (RoundReport(str(tmp_path), name) for name in ('server', 'a.c', 'b.c'))
    server.transfer(round_index=0, sender='a', receiver='server', payload_bytes=100)
    coordinator.transfer(round_index=0, sender='server', receiver='a', payload_bytes=100)
    coordinator.transfer(round_index=0, sender='b', receiver='a', payload_bytes=100)
    client.transfer(round_index=0, sender='a', receiver='b', payload_bytes=100)
    coordinator.training(round_index=0, robot_id='a', role='seed', seconds=2.0, cpu_seconds=1.5,
                         started_at=0.0, ended_at=2.0)
    client.training(round_index=0, robot_id='b', role='fine_tune', seconds=3.0, cpu_seconds=3.0,
                    started_at=2.5, ended_at=5.5)
    coordinator.work(round_index=0, clock=clock(wall_s=0.25, cpu_s=0.125))
    RoundReport(str(tmp_path), 'd.c').work(round_index=0, clock=clock(wall_s=0.75, cpu_s=0.0625))
    server.round(round=0, method='mtf_avg', global_accuracy=0.5, participants=['a', 'b'], duration_s=6.0,
                 evaluation_s=0.5, server_work_s=0.125, server_work_cpu_s=0.1, global_sha256='ab',
                 clusters={'a': ['b']}, started_at=0.0, ended_at=6.0,
                 ranking=[{'robot_id': 'a'}, {'robot_id': 'b'}])
    summary = summarize(read_records(tmp_path))
    (only,) = summary['rounds']
    assert only['bytes_sent'] == 300      # a->server, b->a, a->b: robots' uplinks and seeds
    assert only['bytes_received'] == 300  # server->a, b->a, a->b
    assert only['training_s'] == 5.0      # seed 2 s then fine-tuning 3 s on the critical path
    assert math.isclose(only['overhead_s'], 0.5)
    assert (only['server_work_s'], only['coordinator_work_s']) == (0.125, 0.75)   # the busiest coordinator
    assert (only['server_work_cpu_s'], only['coordinator_work_cpu_s']) == (0.1, 0.125)   # busiest by CPU
    assert summary['final_accuracy'] == 0.5 and summary['final_sha256'] == 'ab'
    assert [r['robot_id'] for r in summary['ranking']] == ['a', 'b']
    assert {'seed_cpu': 1.5, 'fine_tuning_cpu': 3.0}.items() <= only['timeline'].items()   # test_round_timeline


def test_a_round_played_again_by_a_restarted_server_keeps_its_last_record(tmp_path):
    """A server killed after recording a round but before committing its checkpoint plays the round
    again: the summary lists each round once, as last recorded."""
    first, restarted = (RoundReport(str(tmp_path), name) for name in ('server', 'server'))
    for report, rounds in ((first, (0, 1)), (restarted, (1, 2))):
        for index in rounds:
            report.round(round=index, method='mtf_avg', global_accuracy=0.1 * index + (report is restarted),
                         participants=['a'], duration_s=1.0, evaluation_s=0.0, global_sha256=f'{index}',
                         clusters={}, started_at=float(index), ended_at=index + 1.0, ranking=[])
    summary = summarize(read_records(tmp_path))
    assert [(r['round'], r['global_accuracy']) for r in summary['rounds']] == [(0, 0.0), (1, 1.1), (2, 1.2)]


def test_critical_path_of_a_flat_round_is_the_slowest_robot():
    assert critical_training_s({'a': 1.0, 'b': 4.0}, {}, ['a', 'b']) == 4.0
    assert critical_training_s({'a': 1.0, 'b': 4.0, 'c': 2.0}, {'a': ['b'], 'c': []}, ['a', 'b', 'c']) == 5.0


def test_every_node_gets_the_roster_and_missing_keys_are_generated_in_the_run_directory(tmp_path):
    setup = prepare_fleet(write_fleet(tmp_path), out_dir=tmp_path / 'run')
    keys = tmp_path / 'run' / 'keys'
    assert sorted(p.name for p in keys.iterdir()) == sorted(f'{m}.key' for m in ['server', *ROBOTS])
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys.iterdir())
    expected = sorted(f'{m}={keys / m}.key' for m in ['server', *ROBOTS])
    for spec in fleet_nodes(setup):
        assert sorted(spec.parameters['roster']) == expected
        assert spec.parameters['quorum'] == 0.5 and spec.parameters['tier_deadline_s'] == 600
    before = (keys / 'robot_0.key').read_text()
    prepare_fleet(tmp_path / 'fleet.yaml', out_dir=tmp_path / 'run')
    assert (keys / 'robot_0.key').read_text() == before, 'existing keys are kept'


@pytest.mark.parametrize('change, message', [
    (lambda roster: roster.pop('robot_2'), "roster: no entry for robot_2"),
    (lambda roster: roster.pop('server'), "roster: no entry for server"),
    (lambda roster: roster.update(robot_1='elsewhere/r1.key'), r'roster.robot_1: key file .*r1.key not found'),
    (lambda roster: roster.update({'robot-9': 'keys/x.key'}), "member id 'robot-9'"),
])
def test_a_roster_without_every_member_or_key_names_the_problem(tmp_path, change, message):
    path = write_fleet(tmp_path)
    config = yaml.safe_load(path.read_text())
    change(config['roster'])
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(InputError, match=message):
        prepare_fleet(path, out_dir=tmp_path / 'run')


def test_a_config_without_a_roster_is_refused(tmp_path):
    path = write_fleet(tmp_path)
    config = yaml.safe_load(path.read_text())
    del config['roster']
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(InputError, match='roster: missing'):
        prepare_fleet(path, out_dir=tmp_path / 'run')


@pytest.mark.parametrize('faults, message', [
    ({'tier_deadline_s': 50, 'round_deadline_s': 40}, 'tier_deadline_s .* must be below round_deadline_s'),
    ({'quorum': 0}, r'quorum must be in \(0, 1\]'),
    ({'quorum': 1.5}, r'quorum must be in \(0, 1\]'),
    ({'retries': -1}, 'retries must not be negative'),
    ({'round_deadline_s': 4000}, 'must not exceed transport.round_timeout_s'),
])
def test_bad_fault_settings_name_the_field(tmp_path, faults, message):
    with pytest.raises(InputError, match=message):
        load_fleet_config(write_fleet(tmp_path, faults=faults))


def test_robots_per_process_puts_several_robots_nodes_in_one_process(tmp_path):
    import dataclasses

    from mtf_grasp.plan import command_line, parse_hosted, write_params_file

    setup = prepare_fleet(write_fleet(tmp_path, robots_per_process=3), out_dir=tmp_path / 'run')
    specs = fleet_nodes(setup)
    assert [(s.executable, s.name) for s in specs] == [
        ('fl_server', 'fl_server'), ('robot_group', 'robot_group_0'), ('robot_group', 'robot_group_1')]
    first, second = specs[1].hosted, specs[2].hosted
    assert [n.name for n in first] == ['robot_0_client', 'robot_0_coordinator', 'robot_1_client',
                                       'robot_1_coordinator', 'robot_2_client', 'robot_2_coordinator']
    assert [n.name for n in second] == ['robot_10_client', 'robot_10_coordinator']
    assert not specs[1].required and specs[1].restart == setup.config.restarts
    # The same nodes, names and parameters as one process per robot.
    alone = fleet_nodes(dataclasses.replace(setup, config=dataclasses.replace(setup.config, robots_per_process=1)))
    assert [(n.executable, n.fully_qualified_name, n.parameters) for n in first + second] == \
        [(n.executable, n.fully_qualified_name, n.parameters) for n in alone[1:]]
    params = yaml.safe_load(write_params_file(specs, tmp_path / 'params.yaml').read_text())
    assert '/robot_10/robot_10_coordinator' in params and '/robot_group_1' not in params
    argv = command_line(specs[2], tmp_path / 'params.yaml')
    assert argv[1:] == ['fl_client:/robot_10/robot_10_client', 'tier_coordinator:/robot_10/robot_10_coordinator',
                        '--ros-args', '--params-file', str(tmp_path / 'params.yaml')]
    assert parse_hosted(argv[1]) == ('fl_client', '/robot_10', 'robot_10_client')


@pytest.mark.parametrize('fleet, message', [
    ({'robots_per_process': 0}, 'robots_per_process must be at least 1, got 0'),
    ({'discovery': {'server': 'localhost'}}, "discovery: server 'localhost' is not HOST:PORT"),
    ({'discovery': {'server': 'localhost:70000'}}, "server 'localhost:70000' is not HOST:PORT"),
    ({'discovery': {'start': True}}, r'start: true needs server: HOST:PORT'),
])
def test_bad_scale_settings_name_the_field(tmp_path, fleet, message):
    with pytest.raises(InputError, match=message):
        load_fleet_config(write_fleet(tmp_path, **fleet))


def test_a_discovery_server_reaches_every_node_through_its_environment(tmp_path):
    import dataclasses

    from mtf_grasp.fleet import DiscoveryConfig

    config = load_fleet_config(write_fleet(tmp_path, discovery={'server': '10.0.0.5:11811'}))
    assert config.discovery.environment == {'ROS_DISCOVERY_SERVER': '10.0.0.5:11811'}
    assert dataclasses.replace(config, discovery=DiscoveryConfig()).discovery.environment == {}


@pytest.mark.parametrize('values, message', [
    ({'tier_deadline_s': 700.0, 'round_deadline_s': 600.0}, r'tier_deadline_s \(700.0\) must be below'),
    ({'round_deadline_s': 100.0, 'tier_deadline_s': 10.0, 'round_timeout_s': 50.0}, 'must not exceed transport.round_timeout_s'),
    ({'quorum': 2.0}, r'quorum must be in \(0, 1\]'),
    ({'service_timeout_s': 0.0}, 'service_timeout_s must be positive'),
])
def test_a_node_started_by_hand_checks_its_limits_as_the_fleet_config_does(values, message):
    from mtf_grasp.configfile import from_mapping
    from mtf_grasp.fleet import FaultConfig, TransportConfig
    from mtf_grasp.nodes.fleet.params import RobotParams, ServerParams

    with pytest.raises(InputError, match=f'/robot_0/robot_0_client parameter: .*{message}'):
        from_mapping(RobotParams, values, '/robot_0/robot_0_client parameter')
    # One source for the defaults: the fleet config's.
    server = ServerParams()
    assert (server.round_deadline_s, server.quorum, server.registration_timeout_s) == (
        FaultConfig().round_deadline_s, FaultConfig().quorum, TransportConfig().registration_timeout_s)


def test_a_roster_wildcard_gives_every_unlisted_member_a_key_in_one_directory(tmp_path):
    setup = prepare_fleet(write_fleet(tmp_path, roster={'*': 'fleet_keys', 'robot_1': 'own/robot_1.key'}),
                          out_dir=tmp_path / 'run')
    assert setup.roster.key_files['robot_10'] == tmp_path / 'run' / 'fleet_keys' / 'robot_10.key'
    assert setup.roster.key_files['server'] == tmp_path / 'run' / 'fleet_keys' / 'server.key'
    assert setup.roster.key_files['robot_1'] == tmp_path / 'run' / 'own' / 'robot_1.key'  # listed: kept
    (tmp_path / 'other').mkdir()
    with pytest.raises(InputError, match=r'roster.robot_1: key file .*r1.key not found'):
        prepare_fleet(write_fleet(tmp_path / 'other', roster={'*': 'k', 'robot_1': 'elsewhere/r1.key'}),
                      out_dir=tmp_path / 'run2')


def test_the_fleet_and_the_in_process_ledger_name_the_server_alike():
    # fleet.py keeps its own constant so that reading a fleet config does not import torch.
    from mtf_grasp.federated import SERVER
    from mtf_grasp.fleet import SERVER_ID

    assert SERVER_ID == SERVER


@pytest.mark.parametrize('attacks, message', [
    (['robot_1:scale1000'], r"fleet.yaml: attacks: 'robot_1:scale1000' is not ROBOT:KIND\[:FROM_ROUND\]"),
    (['robot_1:inflated_profile:2'], 'registers its profile once, so inflated_profile starts at round 0'),
])
def test_bad_attacks_name_the_field(tmp_path, attacks, message):
    with pytest.raises(InputError, match=message):
        load_fleet_config(write_fleet(tmp_path, attacks=attacks))


@pytest.mark.parametrize('fleet, message', [
    ({'crashes': ['robot_1']}, r"fleet.yaml: crashes: 'robot_1' is not ROBOT:ROUND"),
    ({'crashes': ['robot_1:0'], 'robots_per_process': 2}, 'a crash kills the whole process'),
    ({'crashes': ['robot_9:0']}, r"crashes: 'robot_9:0': the robots are robot_0, robot_1, robot_2, robot_10"),
    ({'crashes': ['robot_1:4']}, r"crashes: 'robot_1:4': .* the rounds 0..3"),
])
def test_bad_crashes_name_the_field(tmp_path, fleet, message):
    with pytest.raises(InputError, match=message):
        prepare_fleet(write_fleet(tmp_path, **fleet), out_dir=tmp_path / 'run')


def test_crashes_reach_the_nodes_and_the_command_line_adds_to_them(tmp_path):
    setup = prepare_fleet(write_fleet(tmp_path, crashes=['robot_1:0']), out_dir=tmp_path / 'run', crashes=['robot_2:3'])
    assert {tuple(spec.parameters['crashes']) for spec in fleet_nodes(setup)} == {('robot_1:0', 'robot_2:3')}
    with pytest.raises(InputError, match=r"--crash: 'x' is not ROBOT:ROUND"):
        prepare_fleet(tmp_path / 'fleet.yaml', out_dir=tmp_path / 'run', crashes=['x'])


def test_attacks_reach_every_node_and_none_leaves_the_parameter_out(tmp_path):
    setup = prepare_fleet(write_fleet(tmp_path), out_dir=tmp_path / 'run')
    assert all('attacks' not in spec.parameters for spec in fleet_nodes(setup))
    attacked = dataclasses.replace(setup, attacks=('robot_2:sign_flip:1',))
    assert [spec.parameters['attacks'] for spec in fleet_nodes(attacked)] == [['robot_2:sign_flip:1']] * 9
