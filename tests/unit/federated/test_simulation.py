"""One in-process round with real training, the codec on every hop, and exact byte accounting."""
import dataclasses
import itertools

import pytest
import torch

from mtf_grasp.federated import (RobotProfile, TrafficLedger, decode_state, encode_state,
                                 local_update, plan_round, server_aggregate, tier_aggregate)
from mtf_grasp.federated.config import experiment_from_mapping
from mtf_grasp.federated.experiment import initial_state
from mtf_grasp.federated.simulation import Wire, run_round
from mtf_grasp.grasping import open_dataset

from federated_data import QUICK_SPEC

N = 5


@pytest.fixture(scope='module')
def setting(tiny_simgrasp):
    torch.set_num_threads(1)
    config = experiment_from_mapping({
        'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32},
        'data': {'root': str(tiny_simgrasp)},
        'partition': {'robots': N},
        'federation': {'top_level': 2, 'seed_epochs': 1, 'local_epochs': 1}}, 'test')
    dataset = open_dataset(tiny_simgrasp, spec=QUICK_SPEC)
    sizes = [20, 4, 9, 3, 6]
    starts = [0, *itertools.accumulate(sizes)]
    indices = {f'robot_{r}': list(range(starts[r], starts[r + 1])) for r in range(N)}
    profiles = [RobotProfile(rid, len(ix), (len(ix),)) for rid, ix in indices.items()]
    return config, dataset, indices, profiles


@pytest.mark.parametrize('method, dtype', [('mtf_avg', 'fp32'), ('fedavg', 'fp32'), ('mtf_nova', 'fp16')])
def test_every_round_moves_two_n_models(setting, method, dtype):
    config, dataset, indices, profiles = setting
    plan = plan_round(profiles, round_index=0, method=method, top_level_count=2)
    ledger = TrafficLedger()
    state = initial_state(config)
    run_round(state, plan=plan, config=config, dataset=dataset, indices=indices,
              wire=Wire(spec=config.model, dtype=dtype, ledger=ledger))
    summary = ledger.round_summary(0)
    params = sum(v.numel() for v in state.values() if v.dtype.is_floating_point)
    per_param = 4 if dtype == 'fp32' else 2
    payload = len(encode_state(state, spec=config.model, dtype=dtype).payload)
    assert summary['transfers'] == 2 * N
    assert summary['parameter_bytes'] == 2 * N * params * per_param
    assert summary['payload_bytes'] == 2 * N * payload
    if plan.tiered:   # coordinators relay: they send and receive 1 + |members| models
        assert summary['robots']['robot_0'] == {'sent': payload * (1 + len(plan.clusters['robot_0'])),
                                                'received': payload * (1 + len(plan.clusters['robot_0']))}
    assert all(r == {'sent': payload, 'received': payload} for rid, r in summary['robots'].items()
               if rid not in plan.top_level)


def test_fleet_style_decomposition_reproduces_the_round(setting):
    """What the ROS nodes do, step by step with encoded blobs, ends in the same global model."""
    config, dataset, indices, profiles = setting
    plan = plan_round(profiles, round_index=1, method='mtf_nova', top_level_count=2)
    state = initial_state(config)
    expected = run_round(state, plan=plan, config=config, dataset=dataset, indices=indices,
                         wire=Wire(spec=config.model, dtype='fp32', ledger=TrafficLedger()))

    def over_the_wire(s):
        blob = encode_state(s, spec=config.model)
        return decode_state(blob.payload, sha256=blob.sha256, encoding=blob.encoding, expected_spec=config.model)

    def train(robot, start, epochs, prior=0.0):
        return local_update(global_state=start, spec=config.model, dataset=dataset, indices=indices[robot],
                            epochs=epochs, round_index=1, robot_id=robot, settings=config.training_for('mtf_nova'),
                            base_seed=config.seed, prior_steps=prior)

    clusters = []
    for coordinator in reversed(plan.top_level):    # arrival order does not matter beyond float rounding
        received = over_the_wire(state)
        seed = train(coordinator, received, config.federation.seed_epochs)
        members = [train(m, over_the_wire(seed.state), config.federation.local_epochs, seed.local_steps)
                   for m in plan.clusters[coordinator]]
        members = [type(u)(u.robot_id, over_the_wire(u.state), u.sample_count, u.local_steps, u.round_index)
                   for u in members]
        cluster = tier_aggregate([seed, *members], base='nova', global_state=received)
        clusters.append(type(cluster)(cluster.robot_id, over_the_wire(cluster.state), cluster.sample_count,
                                      cluster.local_steps, 1))
    got = server_aggregate(clusters, base='nova', global_state=state)
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-5, atol=1e-6)
    assert any(not torch.equal(expected[k], state[k]) for k in state)


@pytest.mark.parametrize('method', ['mtf_avg', 'fedavg'])
def test_a_crashed_robot_is_left_out_of_its_round_and_moves_nothing(setting, method):
    config, dataset, indices, profiles = setting
    plan = plan_round(profiles, round_index=0, method=method, top_level_count=2)
    crashed = next(r for r in plan.robot_ids if r not in plan.top_level)
    state = initial_state(config)
    ledger = TrafficLedger()
    got = run_round(state, plan=plan, config=config, dataset=dataset, indices=indices,
                    wire=Wire(spec=config.model, dtype='fp32', ledger=ledger), crashed=frozenset({crashed}))
    # The same round planned without the robot: its cluster (or the flat round) just lacks it.
    without = dataclasses.replace(
        plan, ranking=tuple(e for e in plan.ranking if e[0] != crashed),
        clusters={c: tuple(m for m in members if m != crashed) for c, members in plan.clusters.items()})
    expected = run_round(state, plan=without, config=config, dataset=dataset, indices=indices,
                         wire=Wire(spec=config.model, dtype='fp32', ledger=TrafficLedger()))
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    summary = ledger.round_summary(0)
    assert summary['transfers'] == 2 * (N - 1) and crashed not in summary['robots']


def test_a_crashed_coordinator_takes_its_cluster_out_of_the_round(setting):
    config, dataset, indices, profiles = setting
    plan = plan_round(profiles, round_index=0, method='mtf_avg', top_level_count=2)
    dead, alive = plan.top_level
    state = initial_state(config)
    ledger = TrafficLedger()
    run_round(state, plan=plan, config=config, dataset=dataset, indices=indices,
              wire=Wire(spec=config.model, dtype='fp32', ledger=ledger), crashed=frozenset({dead}))
    assert set(ledger.round_summary(0)['robots']) == {alive, *plan.clusters[alive]}
