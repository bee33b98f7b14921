"""The fit check (a coordinator judges its members' models on its own data) on hand-computed numbers,
inside eq. 8 and at an audit, and on a real round of the tiny SimGrasp set."""
import math

import pytest
import torch

from mtf_grasp.errors import InputError
from mtf_grasp.federated import TrafficLedger, plan_round
from mtf_grasp.federated.attacks import Adversary, Attack, resolve
from mtf_grasp.federated.audit import caught
from mtf_grasp.federated.config import DefenceConfig, NormBoundConfig, experiment_from_mapping
from mtf_grasp.federated.experiment import initial_state
from mtf_grasp.federated.fit_check import fit_check, most_refused, possible_refusals
from mtf_grasp.federated.rounds import ModelUpdate, cluster_aggregate
from mtf_grasp.federated.simulation import Wire, run_round

from federated_data import tiny_fleet


@pytest.mark.parametrize('losses, refused, references', [
    # The third model fits 3× worse than the median of the others (1.0): refused; the rest fit alike.
    ([1.0, 1.1, 3.0, 0.9], [2], [1.1, 1.0, 1.0, 1.1]),
    # A pair: each is judged against its partner, so only the worse one can go.
    ([0.4, 0.9], [1], [0.9, 0.4]),
    ([0.5, 0.6], [], [0.6, 0.5]),
    # Ratios of exactly 1.5 stay.
    ([1.0, 1.5], [], [1.5, 1.0]),
    # Two over the ratio of four members: only the worst goes (one of 2 to 4)...
    ([1.0, 5.0, 6.0, 1.0], [2], [5.0, 1.0, 1.0, 5.0]),
    # ... of five, the two worst (fewer than half).
    ([1.0, 5.0, 6.0, 1.0, 1.1], [1, 2], [3.05, 1.05, 1.05, 3.05, 3.0]),
    # A model whose loss is not finite goes first.
    ([math.nan, 0.5, 0.6], [0], [0.55, math.inf, math.inf]),
    ([9.0], [], [None]),
    ([], [], []),
])
def test_fit_check_refuses_the_members_that_fit_far_worse_than_their_peers(losses, refused, references):
    verdict = fit_check(losses, ratio=1.5)
    assert verdict.refused == refused
    assert verdict.references == pytest.approx(references)


def test_each_member_is_judged_against_its_peers_losses_as_sent():
    # The second of a pair fits best once clipped (0.1) but sent a model that fits worst (99.1): its
    # partner is judged against 99.1 and stays; it is judged on 0.1 against its partner's 0.6.
    verdict = fit_check([0.6, 0.1], ratio=1.5, as_sent=[0.6, 99.1])
    assert verdict.refused == [] and verdict.references == pytest.approx([99.1, 0.6])
    # Judged against the clipped loss instead, the honest partner would go.
    assert fit_check([0.6, 0.1], ratio=1.5).refused == [0]
    # Non-finite as sent: never a reference below a finite loss.
    assert fit_check([0.6, 0.1, 0.5], ratio=1.5, as_sent=[0.6, math.nan, 0.5]).references == pytest.approx(
        [math.inf, 0.55, math.inf])
    with pytest.raises(ValueError, match='1 losses as sent for 2 members'):
        fit_check([0.6, 0.1], ratio=1.5, as_sent=[0.6])


def test_the_fit_check_takes_out_a_minority_at_most_and_an_audit_accepts_any_such_minority():
    assert [most_refused(k) for k in range(8)] == [0, 0, 1, 1, 1, 2, 2, 3]
    assert list(possible_refusals(['a'])) == [frozenset()]
    assert list(possible_refusals(['a', 'b'])) == [frozenset(), {'a'}, {'b'}]
    assert len(list(possible_refusals(list('abcde')))) == 1 + 5 + 10


@pytest.mark.parametrize('ratio, message', [(1.0, 'must exceed 1, got 1.0'), (0.5, 'must exceed 1')])
def test_a_fit_ratio_of_one_or_less_is_refused(ratio, message):
    with pytest.raises(ValueError, match=message):
        fit_check([1.0, 2.0], ratio=ratio)
    with pytest.raises(InputError, match=f'defences: fit_ratio {message}'):
        experiment_from_mapping({'defences': {'fit_ratio': ratio}}, 'cfg')


def _update(robot, w, samples):
    return ModelUpdate(robot, {'w': torch.tensor(w, dtype=torch.float32)}, samples, 1.0, 0)


SEED = {'w': torch.tensor([0.0])}
OWN = _update('robot_0', [0.0], 40)
MEMBERS = [_update('robot_1', [1.0], 20), _update('robot_2', [1.2], 20), _update('robot_3', [-2.0], 20)]


def _fit_loss(state):
    """A model's loss on the coordinator's data: its distance from the value that data wants (1)."""
    return 0.1 + abs(float(state['w'][0]) - 1.0)


def _aggregate(members, *, events=None, fit_loss=_fit_loss, last_step=None):
    return cluster_aggregate(OWN, members, base='avg', reading='with_coordinator', seed_state=SEED,
                             defences=DefenceConfig(fit_ratio=1.5), fit_loss=fit_loss, events=events,
                             last_step=last_step)


def test_the_coordinator_refuses_the_member_that_fits_its_data_worst_and_records_the_losses():
    events = []
    cluster = _aggregate(MEMBERS, events=events)
    # robot_3's loss 3.1 against the others' median (0.1, 0.3) → 0.2: refused; eq. 8 over the rest.
    assert cluster.state['w'].tolist() == pytest.approx([(1.0 * 20 + 1.2 * 20) / 80])
    assert cluster.sample_count == 80
    checked, refused = events
    assert (checked.tier, checked.by, checked.reason, checked.bound) == ('cluster', 'robot_0', 'fit_checked', 1.5)
    assert checked.losses == pytest.approx({'robot_1': 0.1, 'robot_2': 0.3, 'robot_3': 3.1})
    assert (refused.reason, refused.robot_id) == ('poor_fit', 'robot_3')
    assert refused.loss == pytest.approx(3.1) and refused.bound == pytest.approx(1.5 * 0.2)
    assert 'above' in refused.detail()


def test_a_member_is_judged_on_its_model_as_the_norm_bound_clipped_it():
    # robot_3 sends 100× robot_1's update (w = 100). Unclipped, its loss (99.1) is far over 1.5× its
    # peers' median; clipped to the bound ‖Δ‖ ≤ 1.1 (w = 1.1), it fits best of all (0.2) and counts.
    events = []
    scaled = [*MEMBERS[:2], _update('robot_3', [100.0], 20)]
    cluster = cluster_aggregate(OWN, scaled, base='avg', reading='with_coordinator', seed_state=SEED,
                                defences=DefenceConfig(fit_ratio=1.5, norm_bound=NormBoundConfig(max_norm=1.1)),
                                fit_loss=_fit_loss, events=events)
    assert [(e.reason, e.robot_id) for e in events] == [('clipped', 'robot_2'), ('clipped', 'robot_3'),
                                                        ('fit_checked', '')]
    assert events[2].losses == pytest.approx({'robot_1': 0.1, 'robot_2': 0.2, 'robot_3': 0.2})
    assert events[2].as_sent == pytest.approx({'robot_2': 0.3, 'robot_3': 99.1})
    assert cluster.state['w'].tolist() == pytest.approx([(1.0 * 20 + 1.1 * 20 + 1.1 * 20) / 100])
    # Without the bound the fit check sees the ×100 model and refuses it.
    unbounded = []
    _aggregate(scaled, events=unbounded)
    assert [(e.reason, e.robot_id) for e in unbounded if e.robot_id] == [('poor_fit', 'robot_3')]


def test_a_clipped_member_enters_its_peers_references_as_it_was_sent():
    # A pair: robot_1 (w = 0.5, loss 0.6) and robot_3, which sent w = 100 (loss 99.1), clipped to the
    # bound ‖Δ‖ ≤ 1 (w = 1, loss 0.1: the bound pulled it toward the seed and onto this data's optimum).
    # Against 0.1, the honest robot_1 would be 6× worse and refused; against 99.1 it stays, and robot_3
    # (0.1 against robot_1's 0.6) stays too.
    events = []
    pair = [_update('robot_1', [0.5], 20), _update('robot_3', [100.0], 20)]
    cluster = cluster_aggregate(OWN, pair, base='avg', reading='with_coordinator', seed_state=SEED,
                                defences=DefenceConfig(fit_ratio=1.5, norm_bound=NormBoundConfig(max_norm=1.0)),
                                fit_loss=_fit_loss, events=events)
    assert [(e.reason, e.robot_id) for e in events] == [('clipped', 'robot_3'), ('fit_checked', '')]
    assert events[1].losses == pytest.approx({'robot_1': 0.6, 'robot_3': 0.1})
    assert events[1].as_sent == pytest.approx({'robot_3': 99.1})
    assert cluster.state['w'].tolist() == pytest.approx([(0.5 * 20 + 1.0 * 20) / 80])


def test_without_the_coordinators_data_or_the_setting_nothing_is_judged():
    events = []
    whole = _aggregate(MEMBERS, events=events, fit_loss=None)
    assert events == [] and whole.state['w'].tolist() == pytest.approx([(20 + 24 - 40) / 100])
    off = cluster_aggregate(OWN, MEMBERS, base='avg', reading='with_coordinator', defences=DefenceConfig(),
                            fit_loss=_fit_loss, events=events)
    assert events == [] and off.state['w'].tolist() == pytest.approx(whole.state['w'].tolist())


def test_an_audit_accepts_eq8_without_a_minority_the_fit_check_could_refuse_and_nothing_more():
    # The server has no data: it recomputes eq. 8 over every set of members the check could have left out.
    def recompute(last_step, left_out):
        return _aggregate([m for m in MEMBERS if m.robot_id not in left_out], fit_loss=None, last_step=last_step)

    ids = [m.robot_id for m in MEMBERS]
    claimed = _aggregate(MEMBERS).state
    assert caught(claimed, recompute, SEED, last_step=None, fit_checked=ids) is None
    # Without the fit check, only eq. 8 over every member passes: leaving robot_3 out is caught.
    assert caught(claimed, recompute, SEED, last_step=None) is not None
    # Leaving two of three out is more than the check may refuse: caught, and eq. 8 over all replaces it.
    two_out = _aggregate(MEMBERS[:1], fit_loss=None).state
    replaced = caught(two_out, recompute, SEED, last_step=None, fit_checked=ids)
    assert replaced.state['w'].tolist() == pytest.approx([(20 + 24 - 40) / 100])


# -- a real round on the tiny SimGrasp set -------------------------------------------------------

def test_a_real_round_judges_every_cluster_of_two_or_more_on_its_coordinators_data_and_refuses_a_scale100_member(
        tiny_simgrasp):
    dataset, indices, profiles, config = tiny_fleet(
        tiny_simgrasp, (20, 9, 6, 4, 3), defences={'fit_ratio': 1.5, 'audit_rate': 1.0},
        federation={'top_level': 1, 'seed_epochs': 1, 'local_epochs': 1})
    plan = plan_round(profiles, round_index=0, method='mtf_avg', top_level_count=1)
    [(coordinator, members)] = plan.clusters.items()
    attacker = members[-1]
    adversary = Adversary(resolve([Attack(attacker, 'scale100')], plan=plan, robots=list(indices)))
    events, ledger = [], TrafficLedger()
    state = initial_state(config)
    run_round(state, plan=plan, config=config, dataset=dataset, indices=indices, adversary=adversary,
              wire=Wire(spec=config.model, dtype='fp32', ledger=ledger), events=events)
    checked = [e for e in events if e.reason == 'fit_checked']
    assert [(e.by, sorted(e.losses)) for e in checked] == [(coordinator, sorted(members))]
    assert all(math.isfinite(checked[0].losses[m]) and checked[0].losses[m] > 0 for m in members if m != attacker)
    assert [(e.reason, e.robot_id) for e in events if e.reason != 'fit_checked'] == [('poor_fit', attacker)]
    # The audit (every round here) accepts the aggregate without the refused member: no mismatch.
    assert ledger.round_summary(0)['transfers'] == 3 * len(indices)
