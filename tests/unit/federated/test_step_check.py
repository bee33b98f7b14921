"""The step check (the server compares how far each cluster model follows the fleet's last step) on
hand-computed numbers, and on real rounds of the tiny SimGrasp set."""
import math

import pytest
import torch

from mtf_grasp.errors import InputError
from mtf_grasp.federated import TrafficLedger
from mtf_grasp.federated.attacks import Adversary, Attack, resolve
from mtf_grasp.federated.config import DefenceConfig, experiment_from_mapping
from mtf_grasp.federated.defences import DefenceEvent, lagging_in, off_step, ruled_out
from mtf_grasp.federated.experiment import FederatedRounds, initial_state, plan_for
from mtf_grasp.federated.robust import step_alignment
from mtf_grasp.federated.rounds import ModelUpdate
from mtf_grasp.federated.simulation import Wire
from mtf_grasp.federated.step_check import step_check
from mtf_grasp.federated.workload import Workload
from mtf_grasp.fleet import streaming_conflict

from federated_data import tiny_fleet


@pytest.mark.parametrize('alignments, lagging, references', [
    # Two clusters: each judged against the other; 5 < 0.5 · 60.
    ({'a': 60.0, 'b': 5.0}, ['b'], {'a': 5.0, 'b': 60.0}),
    # 30 = 0.5 · 60 exactly stays; a reversed cluster (below 0) goes.
    ({'a': 60.0, 'b': 30.0}, [], {'a': 30.0, 'b': 60.0}),
    ({'a': 20.0, 'b': -8.0}, ['b'], {'b': 20.0}),
    # A reference under 3 (the others do not follow the step beyond chance) judges nobody.
    ({'a': 2.9, 'b': 0.1}, [], {}),
    ({'a': 40.0}, [], {}),
    # Three: the median of the other two; one of three at most.
    ({'a': 40.0, 'b': 50.0, 'c': 10.0}, ['c'], {'a': 30.0, 'b': 25.0, 'c': 45.0}),
    # Four: both laggards are under half their reference, only the worst (5/40 < 6/40) goes.
    ({'a': 5.0, 'b': 6.0, 'c': 40.0, 'd': 50.0}, ['a'], {'a': 40.0, 'b': 40.0, 'c': 6.0, 'd': 6.0}),
    ({}, [], {}),
])
def test_the_step_check_finds_the_cluster_that_lags_the_others_along_the_last_step(alignments, lagging, references):
    verdict = step_check(alignments, ratio=0.5)
    assert verdict.lagging == lagging and verdict.refused == []   # nobody lagged the round before
    assert verdict.references == pytest.approx(references)
    # Refused only when its coordinator's cluster lagged in the round before too.
    assert step_check(alignments, ratio=0.5, lagged=set(alignments)).refused == lagging
    assert step_check(alignments, ratio=0.5, lagged={'z'}).refused == []


def test_a_ratio_outside_zero_to_one_is_refused_and_the_check_cannot_stream():
    for ratio in (0.0, 1.0):
        with pytest.raises(ValueError, match=f'the step ratio must lie in \\(0, 1\\), got {ratio}'):
            step_check({}, ratio=ratio)
    with pytest.raises(InputError, match=r'defences: step_ratio must lie in \(0, 1\), got 1.5'):
        experiment_from_mapping({'defences': {'step_ratio': 1.5}}, 'cfg')
    assert 'defences.step_ratio' in streaming_conflict(DefenceConfig(step_ratio=0.5))


def test_alignment_is_the_cosine_with_the_step_in_units_of_one_over_root_d():
    reference = {'w': torch.zeros(4), 'bn.running_mean': torch.zeros(3), 'bn.num_batches_tracked': torch.tensor(0)}
    state = {'w': torch.tensor([1.0, 0.0, 0.0, 0.0]), 'bn.running_mean': torch.ones(3),
             'bn.num_batches_tracked': torch.tensor(5)}
    step = {'w': torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)}
    # cos = 1/√2 over the 4 moved coordinates (statistics are not moved by gradients): (1/√2)·√4 = √2.
    assert step_alignment(state, reference, step) == pytest.approx(math.sqrt(2))
    assert step_alignment(state, reference, {'w': -step['w']}) == pytest.approx(-math.sqrt(2))
    assert step_alignment(reference, reference, step) == 0.0


def test_a_lagging_cluster_is_recorded_at_the_server_and_its_coordinator_is_not_top_level_again():
    # Nine coordinates; the step is the first axis. robot_0 moves along it, robot_1 mostly across it.
    reference, step = {'w': torch.zeros(9)}, {'w': torch.eye(9, dtype=torch.float64)[0]}
    follows = ModelUpdate('robot_0', {'w': torch.eye(9)[0] * 2}, sample_count=10, local_steps=1.0, round_index=1)
    lags = ModelUpdate('robot_1', {'w': torch.eye(9)[0] + torch.eye(9)[1] * 3}, sample_count=10, local_steps=1.0,
                       round_index=1)
    events = []
    record = lambda **fields: events.append(fields)  # noqa: E731 - the recorder's signature
    check = dict(defences=DefenceConfig(step_ratio=0.5), reference=reference, record=record)
    # The first time it lags, it is recorded and kept; lagging again the next round, it is refused.
    assert off_step([follows, lags], last_step=step, lagged=frozenset(), **check) == set()
    assert [(e['reason'], e.get('robot_id')) for e in events] == [('step_checked', None), ('lagging_step', 'robot_1')]
    assert lagging_in([DefenceEvent(tier='server', by='server', **e) for e in events]) == {'robot_1'}
    events.clear()
    assert off_step([follows, lags], last_step=step, lagged={'robot_1'}, **check) == {'robot_1'}
    checked, lagging = events
    # robot_0: cos 1 → 1·√9 = 3 units; robot_1: cos 1/√10 → 3/√10 ≈ 0.949 units, under 0.5 · 3 = 1.5.
    assert checked['reason'] == 'step_checked' and checked['bound'] == 0.5
    assert checked['cosines'] == pytest.approx({'robot_0': 3.0, 'robot_1': 3 / math.sqrt(10)})
    assert lagging['reason'] == 'off_step' and lagging['robot_id'] == 'robot_1'
    assert lagging['cosine'] == pytest.approx(3 / math.sqrt(10)) and lagging['bound'] == pytest.approx(1.5)
    # Off, or without a last step (round 0, a server restarted without the previous model): nothing.
    assert off_step([follows, lags], defences=DefenceConfig(), reference=reference, last_step=step,
                    lagged={'robot_1'}, record=record) == set()
    assert off_step([follows, lags], last_step=None, lagged={'robot_1'}, **check) == set()
    assert len(events) == 2
    caught = DefenceEvent(tier='server', by='server', reason='off_step', robot_id='robot_1', cosine=0.949, bound=1.5)
    assert ruled_out([caught], top_level=['robot_0', 'robot_1']) == {'robot_1'}
    assert caught.detail() == "update follows the fleet's last step by 0.949/√d, below 1.5/√d"


def test_real_rounds_refuse_a_noised_seeds_cluster_that_lags_twice_and_keep_the_traffic(tiny_simgrasp):
    """Six robots, two coordinators, the first of which noises its seed (and so its own model) to an
    honest norm: nothing is judged in round 0 (no last step); in rounds 1 and 2 its cluster follows
    the step at chance while the honest one follows it beyond: recorded lagging in round 1, refused
    and demoted in round 2."""
    dataset, indices, profiles, config = tiny_fleet(tiny_simgrasp, (20, 16, 6, 5, 4, 3), defences={'step_ratio': 0.25},
                                                    federation={'top_level': 2, 'seed_epochs': 3, 'local_epochs': 3})
    workload = Workload(dataset, None, indices, [], profiles)
    adversary = Adversary(resolve([Attack('top:1', 'noise')], plan=plan_for('mtf_avg', 0, config, workload),
                                  robots=list(indices)))
    [attacker] = [a.robot for a in adversary.attacks]
    ledger = TrafficLedger()
    runner = FederatedRounds('mtf_avg', config=config, workload=workload, crashes={}, adversary=adversary,
                             wire=Wire(spec=config.model, dtype='fp32', ledger=ledger))
    state, plan, events = runner.step(initial_state(config), 0)
    assert attacker in plan.top_level and events == []
    for index, verdict in ((1, 'lagging_step'), (2, 'off_step')):
        state, plan, events = runner.step(state, index)
        [checked] = [e for e in events if e.reason == 'step_checked']
        [honest] = [c for c in plan.top_level if c != attacker]
        assert checked.cosines[honest] > 3.0 > checked.cosines[attacker], checked.cosines
        assert [(e.reason, e.robot_id) for e in events if e.robot_id] == [(verdict, attacker)]
    assert ruled_out(events, top_level=plan.top_level) == {attacker}
    # The server judged what it already had: still 2·n·|θ| a round.
    assert [ledger.round_summary(r)['transfers'] for r in (0, 1, 2)] == [2 * len(indices)] * 3
    _, plan, _ = runner.step(state, 3)
    assert attacker not in plan.top_level
