"""The seed check (members score their coordinator's seed on their own data; the server compares
clusters) on hand-computed numbers, and on real rounds of the tiny SimGrasp set."""
import math

import pytest
import torch

from mtf_grasp.errors import InputError
from mtf_grasp.federated import RobotProfile, TrafficLedger, plan_round
from mtf_grasp.federated.attacks import REPORT_FACTOR, Adversary, Attack, resolve
from mtf_grasp.federated.config import DefenceConfig, experiment_from_mapping
from mtf_grasp.federated.defences import ruled_out, seeds_refused
from mtf_grasp.federated.experiment import initial_state, plan_for
from mtf_grasp.federated.seed_check import seed_check
from mtf_grasp.federated.simulation import Wire, run_round
from mtf_grasp.federated.workload import Workload

from federated_data import tiny_fleet


@pytest.mark.parametrize('reports, refused, values, references', [
    # Two clusters of two: each judged by its lower median against the other's upper median.
    ({'a': [0.5, 0.6], 'b': [2.0, 3.0]}, ['b'], {'a': 0.5, 'b': 2.0}, {'a': 3.0, 'b': 0.6}),
    # 0.9 / 0.6 = 1.5 exactly stays.
    ({'a': [0.5, 0.6], 'b': [0.9, 3.0]}, [], {'a': 0.5, 'b': 0.9}, {'a': 3.0, 'b': 0.6}),
    # One lying member (×100) cannot raise its cluster's lower median when it has a peer...
    ({'a': [0.5, 50.0], 'b': [0.6, 0.7]}, [], {'a': 0.5, 'b': 0.6}, {'a': 0.7, 'b': 50.0}),
    # ... nor lower the reference its peer sets (a poisoned seed is still refused).
    ({'a': [0.001, 0.6], 'b': [2.0, 2.5]}, ['b'], {'a': 0.001, 'b': 2.0}, {'a': 2.5, 'b': 0.6}),
    # A lone member's cluster is judged against the others, but is nobody's reference.
    ({'a': [3.0], 'b': [0.5, 0.6]}, ['a'], {'a': 3.0, 'b': 0.5}, {'a': 0.6}),
    ({'a': [3.0], 'b': [0.5]}, [], {'a': 3.0, 'b': 0.5}, {}),
    # Three clusters: the median of the other two references; at most one of three refused.
    ({'a': [1.0, 1.0], 'b': [1.2, 1.1], 'c': [9.0, 8.0, 7.0]}, ['c'],
     {'a': 1.0, 'b': 1.1, 'c': 8.0}, {'a': 4.6, 'b': 4.5, 'c': 1.1}),
    ({'a': [4.0, 4.0], 'b': [5.0, 5.0], 'c': [1.0, 1.0]}, ['b'],
     {'a': 4.0, 'b': 5.0, 'c': 1.0}, {'a': 3.0, 'b': 2.5, 'c': 4.5}),
    # A seed that gave NaN on a member's data: +inf, refused first; a cluster with no report is not judged.
    ({'a': [math.nan, math.inf], 'b': [0.5, 0.6], 'c': []}, ['a'],
     {'a': math.inf, 'b': 0.5}, {'a': 0.6, 'b': math.inf}),
    ({}, [], {}, {}),
])
def test_the_seed_check_refuses_the_cluster_whose_seed_fits_its_members_far_worse(reports, refused, values, references):
    verdict = seed_check(reports, ratio=1.5)
    assert verdict.refused == refused
    assert verdict.values == pytest.approx(values)
    assert verdict.references == pytest.approx(references)


def test_a_report_that_is_no_loss_and_a_ratio_of_one_are_refused():
    with pytest.raises(ValueError, match='a seed loss must be positive, got 0.0'):
        seed_check({'a': [0.0, 1.0], 'b': [1.0, 1.0]}, ratio=1.5)
    with pytest.raises(ValueError, match='got -1'):
        seed_check({'a': [-1.0]}, ratio=1.5)
    with pytest.raises(ValueError, match='the seed ratio must exceed 1, got 1.0'):
        seed_check({}, ratio=1.0)
    with pytest.raises(InputError, match='defences: seed_ratio must exceed 1, got 0.5'):
        experiment_from_mapping({'defences': {'seed_ratio': 0.5}}, 'cfg')


def test_a_refused_seed_is_recorded_at_the_server_and_its_coordinator_is_not_top_level_again():
    events = []
    record = lambda **fields: events.append(fields)  # noqa: E731 - the recorder's signature
    refused = seeds_refused({'robot_0': [0.5, 0.6], 'robot_1': [4.0, 4.2]}, defences=DefenceConfig(seed_ratio=1.5),
                            record=record)
    assert refused == {'robot_1'}
    checked, poor = events
    # Each cluster's value (its lower median) beside its reference (the other cluster's upper median).
    assert checked == {'reason': 'seed_checked', 'bound': 1.5, 'losses': {'robot_0': 0.5, 'robot_1': 4.0},
                       'references': {'robot_0': 4.2, 'robot_1': 0.6}}
    assert poor['reason'] == 'poor_seed' and poor['robot_id'] == 'robot_1'
    assert poor['loss'] == 4.0 and poor['bound'] == pytest.approx(1.5 * 0.6)
    assert seeds_refused({'robot_1': [9.0]}, defences=DefenceConfig(), record=record) == set()
    assert len(events) == 2   # off: nothing judged, nothing recorded

    from mtf_grasp.federated.defences import DefenceEvent
    caught = DefenceEvent(tier='server', by='server', reason='poor_seed', robot_id='robot_1', loss=4.0, bound=0.9)
    assert ruled_out([caught], top_level=['robot_0', 'robot_1']) == {'robot_1'}
    assert caught.detail() == "seed loss 4 on its members' data above 0.9"


def test_an_attacking_member_reports_its_seed_loss_inflated_and_an_honest_one_reports_it_as_measured():
    adversary = Adversary((Attack('robot_3', 'sign_flip', from_round=2),))
    assert adversary.reported('robot_3', 1, 0.4) == 0.4
    assert adversary.reported('robot_3', 2, 0.4) == pytest.approx(0.4 * REPORT_FACTOR)
    assert adversary.reported('robot_2', 2, 0.4) == 0.4


# -- real rounds on the tiny SimGrasp set ---------------------------------------------------------

def _setup(tiny_simgrasp, attack_kind: str, tier: str, sizes=(20, 16, 6, 5, 4, 3)):
    dataset, indices, profiles, config = tiny_fleet(tiny_simgrasp, sizes, defences={'seed_ratio': 1.5},
                                                    federation={'top_level': 2, 'seed_epochs': 1, 'local_epochs': 1})
    plan = plan_for('mtf_avg', 0, config, Workload(dataset, None, indices, [], profiles))
    adversary = Adversary(resolve([Attack(f'{tier}:1', attack_kind)], plan=plan, robots=list(indices)))
    return dataset, indices, config, plan, adversary


def _round(dataset, indices, config, plan, adversary):
    events, ledger = [], TrafficLedger()
    state = run_round(initial_state(config), plan=plan, config=config, dataset=dataset, indices=indices,
                      adversary=adversary, wire=Wire(spec=config.model, dtype='fp32', ledger=ledger), events=events)
    return state, events, ledger


def test_a_real_round_refuses_a_scaled_seed_keeps_the_traffic_and_rules_its_coordinator_out(tiny_simgrasp):
    dataset, indices, config, plan, adversary = _setup(tiny_simgrasp, 'scale100', 'top')
    [attacker] = [a.robot for a in adversary.attacks]
    state, events, ledger = _round(dataset, indices, config, plan, adversary)
    [checked] = [e for e in events if e.reason == 'seed_checked']
    assert (checked.tier, checked.by) == ('server', 'server') and sorted(checked.losses) == sorted(plan.top_level)
    assert all(math.isfinite(x) and x > 0 for x in checked.losses.values())
    assert [(e.reason, e.robot_id) for e in events if e.reason == 'poor_seed'] == [('poor_seed', attacker)]
    assert ruled_out(events, top_level=plan.top_level) == {attacker}
    # The members scored the seed they already had: no model moved for it (2·n·|θ| a round).
    assert ledger.round_summary(0)['transfers'] == 2 * len(indices)
    # The global model is the honest cluster's alone: the same as a round whose attacker's cluster crashed.
    [honest] = [c for c in plan.top_level if c != attacker]
    events_off = []
    without = run_round(initial_state(config), plan=plan, config=config, dataset=dataset, indices=indices,
                        crashed=frozenset({attacker, *plan.clusters[attacker]}), events=events_off,
                        wire=Wire(spec=config.model, dtype='fp32', ledger=TrafficLedger()))
    for name, value in state.items():
        assert torch.allclose(value.double(), without[name].double(), rtol=1e-5, atol=1e-6), (name, honest)


def test_a_real_clean_round_refuses_no_honest_seed(tiny_simgrasp):
    dataset, indices, config, plan, _ = _setup(tiny_simgrasp, 'scale100', 'top')
    _, events, _ = _round(dataset, indices, config, plan, Adversary())
    [checked] = [e for e in events if e.reason == 'seed_checked']
    values = sorted(checked.losses.values())
    assert values[-1] / values[0] < 1.5, checked.losses
    assert [e for e in events if e.reason == 'poor_seed'] == []


def test_a_coordinator_the_plan_would_leave_alone_gets_two_members_and_they_refuse_its_scaled_seed(tiny_simgrasp):
    # Balanced assignment gives robot_0 (40 samples) no member: 10+6+5+4+3 < 40. Nobody would score its seed.
    sizes = (40, 10, 6, 5, 4, 3)
    profiles = [RobotProfile(f'robot_{r}', n, (n,)) for r, n in enumerate(sizes)]
    assert plan_round(profiles, round_index=0, method='mtf_avg', top_level_count=2).clusters['robot_0'] == ()
    dataset, indices, config, plan, adversary = _setup(tiny_simgrasp, 'scale100', 'top', sizes)
    assert plan.clusters == {'robot_0': ('robot_5', 'robot_4'), 'robot_1': ('robot_2', 'robot_3')}
    assert [a.robot for a in adversary.attacks] == ['robot_0']
    _, events, _ = _round(dataset, indices, config, plan, adversary)
    assert [(e.reason, e.robot_id) for e in events if e.reason == 'poor_seed'] == [('poor_seed', 'robot_0')]
