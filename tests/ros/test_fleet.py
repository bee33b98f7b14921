"""`mtf-grasp fleet`: the real multi-process fleet over loopback DDS ends with the experiment's model."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fleet_testdata import write_configs, write_jacquard_boxes

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def run_fleet(ros_processes, config: Path, out: Path, *, timeout_s: float = 240):
    proc = ros_processes.start([sys.executable, '-m', 'mtf_grasp.cli', 'fleet', '--config', str(config),
                                '--out', str(out), '--quiet', '--timeout', str(timeout_s)], name='fleet')
    proc.wait(timeout=timeout_s + 30)
    assert proc.returncode == 0, ros_processes.log(proc)[-3000:]
    return json.loads((out / 'summary.json').read_text())


def experiment_rounds(experiment: Path, manifest: Path, method: str):
    """What `mtf-grasp experiment` computes for `method`: its round function, wire and evaluation,
    with the config's torch threads, as every node uses. Returns (final state, accuracies, robots' bytes)."""
    from mtf_grasp.federated.config import load_experiment_config
    from mtf_grasp.federated.experiment import accuracy_on_test_set, initial_state, plan_for
    from mtf_grasp.federated.simulation import Wire, run_round
    from mtf_grasp.federated.traffic import TrafficLedger
    from mtf_grasp.federated.workload import prepare_workload

    config = load_experiment_config(experiment)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    try:
        workload = prepare_workload(config, manifest=manifest)
        wire = Wire(spec=config.model, dtype=config.federation.encoding, ledger=TrafficLedger())
        state, accuracies = initial_state(config), []
        for index in range(config.federation.rounds):
            state = run_round(state, plan=plan_for(method, index, config, workload), config=config,
                              dataset=workload.dataset, indices=workload.indices, wire=wire)
            accuracies.append(accuracy_on_test_set(state, config, workload))
    finally:
        torch.set_num_threads(threads)
    sent = [sum(r['sent'] for r in wire.ledger.round_summary(i)['robots'].values()) for i in range(len(accuracies))]
    return state, accuracies, sent


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

    from mtf_grasp.grasping import load_model
    fleet_state = load_model(tmp_path / 'run' / 'checkpoints' / 'round_0001.safetensors')[0].state_dict()
    state, accuracies, sent = experiment_rounds(tmp_path / 'experiment.yaml', tmp_path / 'run' / 'partition.json',
                                                method)
    assert fleet_state.keys() == state.keys()
    for name, value in state.items():
        torch.testing.assert_close(fleet_state[name], value, rtol=1e-5, atol=1e-6, msg=name)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
    assert summary['final_accuracy'] == pytest.approx(accuracies[-1])
    assert [r['bytes_sent'] for r in summary['rounds']] == sent


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
