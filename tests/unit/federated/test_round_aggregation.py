import pytest
import torch

from mtf_grasp.federated import ModelUpdate, server_aggregate, tier_aggregate, weighted_average

SIZES = [12, 40, 7, 25, 9]
STEPS = [3.0, 10.0, 2.0, 7.0, 4.0]


@pytest.fixture
def world():
    generator = torch.Generator().manual_seed(0)
    global_state = {'conv.weight': torch.randn(4, 3, generator=generator),
                    'bn.running_var': torch.rand(4, generator=generator) + 0.5,
                    'bn.num_batches_tracked': torch.tensor(5)}
    updates = [ModelUpdate(f'robot_{i}', {'conv.weight': torch.randn(4, 3, generator=generator),
                                          'bn.running_var': torch.rand(4, generator=generator) + 0.5,
                                          'bn.num_batches_tracked': torch.tensor(5 + i)},
                           n, a, 2) for i, (n, a) in enumerate(zip(SIZES, STEPS))]
    return global_state, updates


@pytest.mark.parametrize('base', ['avg', 'nova'])
def test_two_tier_with_singleton_clusters_equals_flat(world, base):
    global_state, updates = world
    flat = server_aggregate(updates, base=base, global_state=global_state)
    clusters = [tier_aggregate([u], base=base, global_state=global_state) for u in updates]
    tiered = server_aggregate(clusters, base=base, global_state=global_state)
    for key in flat:
        torch.testing.assert_close(tiered[key], flat[key])


@pytest.mark.parametrize('base', ['avg', 'nova'])
def test_two_tier_with_real_clusters_equals_flat(world, base):
    """Eq. 8 then eq. 9 is the flat average: MTF differs from FedAvg/FedNova in training, not here."""
    global_state, updates = world
    flat = server_aggregate(updates, base=base, global_state=global_state)
    clusters = [tier_aggregate(updates[:2], base=base, global_state=global_state),
                tier_aggregate(updates[2:], base=base, global_state=global_state)]
    tiered = server_aggregate(iter(clusters), base=base, global_state=global_state)
    for key in flat:
        torch.testing.assert_close(tiered[key], flat[key], rtol=1e-5, atol=1e-6)


def test_cluster_update_carries_coordinator_totals(world):
    global_state, updates = world
    cluster = tier_aggregate(updates[1:3], base='nova', global_state=global_state)
    assert cluster.robot_id == 'robot_1' and cluster.sample_count == 47 and cluster.round_index == 2
    assert cluster.local_steps == pytest.approx((40 * 10.0 + 7 * 2.0) / 47)
    avg = tier_aggregate(updates[1:3], base='avg')
    torch.testing.assert_close(avg.state['conv.weight'],
                               weighted_average([(u.state, u.sample_count) for u in updates[1:3]])['conv.weight'])


def test_bad_aggregation_calls(world):
    global_state, updates = world
    with pytest.raises(ValueError, match='reference'):
        tier_aggregate(updates, base='nova')
    with pytest.raises(ValueError, match='unknown aggregation base'):
        server_aggregate(updates, base='median', global_state=global_state)
    with pytest.raises(ValueError, match='no updates'):
        server_aggregate([], base='avg', global_state=global_state)
