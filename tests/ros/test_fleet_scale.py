"""Fleets of many robots over real DDS: several robots' nodes per process (robot_group) and a Fast DDS
discovery server started by `mtf-grasp fleet`; the fleet still ends with the experiment's model."""
import time

import pytest
import yaml

from fleet_testdata import (assert_same_state, experiment_rounds, fleet_final_state, free_udp_port, run_fleet,
                            scale_out, write_configs, write_jacquard_boxes)

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def check_same_as_experiment(tmp_path, summary, rounds: int) -> None:
    state, accuracies, sent = experiment_rounds(tmp_path / 'experiment.yaml', tmp_path / 'run' / 'partition.json',
                                                'mtf_avg')
    assert_same_state(fleet_final_state(tmp_path / 'run', rounds), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
    assert [r['bytes_sent'] for r in summary['rounds']] == sent


def test_robots_sharing_processes_behind_a_discovery_server_end_with_the_experiments_model(ros_processes, tmp_path):
    data = write_jacquard_boxes(tmp_path / 'data', samples=40)
    config = write_configs(tmp_path, data=data, robots=4, rounds=2)
    scale_out(config, robots_per_process=3,
              discovery={'server': f'127.0.0.1:{free_udp_port()}', 'start': True})
    summary = run_fleet(ros_processes, config, tmp_path / 'run')

    logs = tmp_path / 'run' / 'logs'
    # Robots 0-2 share one process, robot 3 has the other: two robot processes, no per-node ones.
    assert sorted(p.name for p in logs.glob('robot*.log')) == ['robot_group_0.log', 'robot_group_1.log']
    assert 'Server is running' in (logs / 'discovery_server.log').read_text()
    for record in summary['rounds']:
        assert record['participants'] == ['robot_0', 'robot_1', 'robot_2', 'robot_3']
        assert record['server_peak_rss_mb'] > 50  # torch alone takes more
    assert 0 < summary['registration_s'] < summary['rounds'][0]['duration_s'] + 60
    check_same_as_experiment(tmp_path, summary, rounds=2)


def test_fifty_robots_in_two_processes_behind_a_discovery_server_complete_two_rounds(ros_processes, tmp_path):
    started = time.monotonic()
    data = write_jacquard_boxes(tmp_path / 'data', samples=300, size=32)
    config = write_configs(tmp_path, data=data, robots=50, rounds=2, input_size=16)
    experiment = yaml.safe_load((tmp_path / 'experiment.yaml').read_text())
    experiment['partition'].update(beta=10.0, min_samples=2)
    experiment['federation']['top_level'] = 'sqrt'  # round(√50) = 7 coordinators
    (tmp_path / 'experiment.yaml').write_text(yaml.safe_dump(experiment))
    scale_out(config, robots_per_process=25,
              discovery={'server': f'127.0.0.1:{free_udp_port()}', 'start': True})
    summary = run_fleet(ros_processes, config, tmp_path / 'run', timeout_s=400)

    robots = [f'robot_{i}' for i in range(50)]
    assert sorted(p.name for p in (tmp_path / 'run' / 'logs').glob('robot*.log')) == [
        'robot_group_0.log', 'robot_group_1.log']
    for record in summary['rounds']:
        assert sorted(record['participants']) == sorted(robots)
    check_same_as_experiment(tmp_path, summary, rounds=2)
    print(f'50-robot fleet: {time.monotonic() - started:.0f} s')


def test_sigterm_to_the_runner_stops_every_node_and_the_discovery_server(ros_processes, tmp_path):
    import signal
    import subprocess
    import sys

    data = write_jacquard_boxes(tmp_path / 'data', samples=40)
    config = write_configs(tmp_path, data=data, robots=4, rounds=50)
    port = free_udp_port()
    scale_out(config, robots_per_process=2, discovery={'server': f'127.0.0.1:{port}', 'start': True})
    proc = ros_processes.start([sys.executable, '-m', 'mtf_grasp.cli', 'fleet', '--config', str(config),
                                '--out', str(tmp_path / 'run'), '--quiet'], name='fleet')
    server_log = tmp_path / 'run' / 'logs' / 'fl_server.log'
    deadline = time.monotonic() + 120
    while not (server_log.exists() and 'round 0: plan published' in server_log.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, ros_processes.log(proc)[-2000:]
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    for pattern in (str(tmp_path / 'run'), f'fast-discovery-server .*-p {port}$'):
        leftovers = subprocess.run(['pgrep', '-f', pattern], capture_output=True, text=True).stdout.split()
        assert not leftovers, f'processes of the fleet still running ({pattern}): {leftovers}'


@pytest.mark.parametrize('method, attacks', [('mtf_avg', ['low:1:scale100']), ('fedavg', [])])
def test_a_streaming_fleet_folds_models_as_they_arrive_and_ends_with_the_experiments_model(
        ros_processes, tmp_path, method, attacks):
    """`aggregation: streaming`: the server and coordinators fold each model as it is admitted (in
    arrival order; the sums' order is the only difference from the experiment, within float
    rounding), with the defences that allow it: the norm bound refuses the ×100 member at its
    coordinator as the experiment does, receipts and claims are checked."""
    data = write_jacquard_boxes(tmp_path / 'data', samples=40)
    config = write_configs(tmp_path, data=data, robots=5, rounds=2, method=method,
                           defences={'norm_bound': {'max_relative': 0.05, 'action': 'reject'},
                                     'check_members': True, 'check_claims': True})
    scale_out(config, aggregation='streaming', robots_per_process=5)
    summary = run_fleet(ros_processes, config, tmp_path / 'run', more=[f'--attack={a}' for a in attacks])
    assert 'folding models as they arrive' in (tmp_path / 'run' / 'logs' / 'fl_server.log').read_text()

    expected = []
    state, accuracies, sent = experiment_rounds(tmp_path / 'experiment.yaml', tmp_path / 'run' / 'partition.json',
                                                method, attacks=attacks, events=expected)
    assert_same_state(fleet_final_state(tmp_path / 'run', 2), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
    assert [r['bytes_sent'] for r in summary['rounds']] == sent
    for record in summary['rounds']:   # the streams' waits are not counted as work
        for tier in ('server', 'coordinator'):
            assert 0.0 <= record[f'{tier}_work_s'] < record['duration_s'] and record[f'{tier}_work_cpu_s'] >= 0.0
    for record, decided in zip(summary['rounds'], expected, strict=True):
        assert sorted((e['tier'], e['reason'], e['robot_id']) for e in record['defences']['events']) == \
            sorted((e.tier, e.reason, e.robot_id) for e in decided)
    if attacks:
        low = summary['attacks'][0]['robot']
        first = summary['rounds'][0]
        assert ('cluster', 'norm_exceeded', low) in {(e['tier'], e['reason'], e['robot_id'])
                                                      for e in first['defences']['events']}
        assert low not in first['participants']
