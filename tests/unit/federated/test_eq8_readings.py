"""The readings of eq. 8 on hand-computed numbers, their traffic (2·n·|θ| per round), and FedBN."""
import dataclasses
import itertools

import pytest
import torch

from mtf_grasp.errors import InputError
from mtf_grasp.federated import RobotProfile, TrafficLedger, plan_round
from mtf_grasp.federated.config import experiment_from_mapping
from mtf_grasp.federated.experiment import initial_state
from mtf_grasp.federated.fedbn import LocalNorms, batchnorm_entries
from mtf_grasp.federated.rounds import ModelUpdate, cluster_aggregate
from mtf_grasp.federated.simulation import Wire, run_round
from mtf_grasp.grasping import ModelSpec, open_dataset


def _update(robot, value, samples, steps=1.0):
    return ModelUpdate(robot, {'w': torch.tensor([value])}, samples, steps, 0)


OWN = _update('robot_0', 10.0, 60, steps=5.0)
MEMBERS = [_update('robot_1', 2.0, 30, steps=20.0), _update('robot_2', 5.0, 10, steps=25.0)]


def test_with_coordinator_weights_the_coordinator_by_its_samples():
    cluster = cluster_aggregate(OWN, MEMBERS, base='avg', reading='with_coordinator')
    assert cluster.state['w'].item() == pytest.approx((60 * 10 + 30 * 2 + 10 * 5) / 100)   # 7.1
    assert (cluster.robot_id, cluster.sample_count) == ('robot_0', 100)


def test_members_only_averages_the_members_but_carries_the_whole_cluster_weight():
    cluster = cluster_aggregate(OWN, MEMBERS, base='avg', reading='members_only')
    assert cluster.state['w'].item() == pytest.approx((30 * 2 + 10 * 5) / 40)   # 2.75
    assert (cluster.robot_id, cluster.sample_count) == ('robot_0', 100)
    assert cluster.local_steps == pytest.approx((30 * 20 + 10 * 25) / 40)


def test_members_only_nova_normalises_members_by_their_steps():
    reference = {'w': torch.tensor([0.0])}
    cluster = cluster_aggregate(OWN, MEMBERS, base='nova', reading='members_only', global_state=reference)
    # directions (ref - w)/a: -2/20 = -0.1, -5/25 = -0.2; p = 0.75, 0.25; tau = 0.75*20 + 0.25*25 = 21.25
    assert cluster.state['w'].item() == pytest.approx(0.0 - 21.25 * (0.75 * -0.1 + 0.25 * -0.2))
    assert cluster.local_steps == pytest.approx(21.25)


def test_members_only_without_members_falls_back_to_the_coordinator():
    assert cluster_aggregate(OWN, [], base='avg', reading='members_only') is OWN


def test_an_unknown_reading_is_refused():
    with pytest.raises(ValueError, match='tier_aggregate reading'):
        cluster_aggregate(OWN, MEMBERS, base='avg', reading='coordinator_first')


def _config(root, **federation):
    return experiment_from_mapping({
        'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32},
        'data': {'root': str(root)}, 'partition': {'robots': 5},
        'federation': {'top_level': 2, 'seed_epochs': 1, 'local_epochs': 2, **federation}}, 'test')


def test_continuation_epochs_are_er_minus_et_only_for_seed_then_local(tiny_simgrasp):
    assert _config(tiny_simgrasp).continuation_epochs('mtf_avg') == 0
    config = _config(tiny_simgrasp, coordinator_epochs='seed_then_local')
    assert config.continuation_epochs('mtf_avg') == 1
    assert config.continuation_epochs('fedavg') == 0
    assert _config(tiny_simgrasp, coordinator_epochs='seed_then_local', seed_epochs=3).continuation_epochs('mtf_nova') == 0


def test_fedbn_needs_batchnorm(tiny_simgrasp):
    with pytest.raises(InputError, match='fedbn'):
        experiment_from_mapping({'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32, 'norm': 'group'},
                                 'data': {'root': str(tiny_simgrasp)}, 'federation': {'fedbn': True}}, 'test')


@pytest.fixture(scope='module')
def round_setting(tiny_simgrasp):
    torch.set_num_threads(1)
    dataset = open_dataset(tiny_simgrasp, spec=ModelSpec(arch='ggcnn2', channels='depth', input_size=32))
    sizes = [20, 4, 9, 3, 6]
    starts = [0, *itertools.accumulate(sizes)]
    indices = {f'robot_{r}': list(range(starts[r], starts[r + 1])) for r in range(5)}
    profiles = [RobotProfile(rid, len(ix), (len(ix),)) for rid, ix in indices.items()]
    return dataset, indices, profiles


READINGS = [{}, {'tier_aggregate': 'members_only'}, {'coordinator_epochs': 'seed_then_local'},
            {'seed_epochs': 2}, {'fedbn': True}]


@pytest.mark.parametrize('federation', READINGS, ids=['paper', 'members_only', 'seed_then_local', 'et_er', 'fedbn'])
def test_every_reading_moves_exactly_two_n_models_per_round(tiny_simgrasp, round_setting, federation):
    dataset, indices, profiles = round_setting
    config = _config(tiny_simgrasp, **federation)
    plan = plan_round(profiles, round_index=0, method='mtf_avg', top_level_count=2)
    ledger = TrafficLedger()
    state = initial_state(config)
    norms = LocalNorms() if config.federation.fedbn else None
    result = run_round(state, plan=plan, config=config, dataset=dataset, indices=indices,
                       wire=Wire(spec=config.model, dtype='fp32', ledger=ledger), local_norms=norms)
    params = sum(v.numel() for v in state.values() if v.dtype.is_floating_point)
    summary = ledger.round_summary(0)
    assert summary['transfers'] == 2 * 5
    assert summary['parameter_bytes'] == 2 * 5 * params * 4
    assert result.keys() == state.keys()


def test_the_readings_give_different_global_models(tiny_simgrasp, round_setting):
    dataset, indices, profiles = round_setting
    plan = plan_round(profiles, round_index=0, method='mtf_avg', top_level_count=2)
    models = []
    for federation in READINGS[:3]:
        config = _config(tiny_simgrasp, **federation)
        models.append(run_round(initial_state(config), plan=plan, config=config, dataset=dataset, indices=indices,
                                wire=Wire(spec=config.model, dtype='fp32', ledger=TrafficLedger())))
    name = next(k for k, v in models[0].items() if v.dtype.is_floating_point and not k.endswith('running_var'))
    assert not torch.allclose(models[0][name], models[1][name])
    assert not torch.allclose(models[0][name], models[2][name])


def test_batchnorm_entries_are_the_layers_with_running_statistics():
    state = {'conv.weight': torch.ones(1), 'bn.weight': torch.ones(1), 'bn.bias': torch.ones(1),
             'bn.running_mean': torch.ones(1), 'bn.running_var': torch.ones(1),
             'bn.num_batches_tracked': torch.tensor(1), 'gn.weight': torch.ones(1)}
    assert sorted(batchnorm_entries(state)) == ['bn.bias', 'bn.num_batches_tracked', 'bn.running_mean',
                                                'bn.running_var', 'bn.weight']


def test_local_norms_replace_received_batchnorm_layers_after_the_first_round():
    received = {'conv.weight': torch.tensor([1.0]), 'bn.weight': torch.tensor([2.0]),
                'bn.running_mean': torch.tensor([3.0])}
    norms = LocalNorms()
    assert norms.apply('robot_1', received) == received          # no layers of its own yet
    trained = {'conv.weight': torch.tensor([5.0]), 'bn.weight': torch.tensor([6.0]),
               'bn.running_mean': torch.tensor([7.0])}
    norms.keep('robot_1', trained)
    trained['bn.weight'].add_(100)                                # kept a copy, not a view
    nxt = norms.apply('robot_1', received)
    assert nxt['conv.weight'].item() == 1.0 and nxt['bn.weight'].item() == 6.0 and nxt['bn.running_mean'].item() == 7.0
    assert norms.apply('robot_2', received)['bn.weight'].item() == 2.0
