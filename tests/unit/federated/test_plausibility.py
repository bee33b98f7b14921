"""Profile plausibility: the count cap, claims against training reports, and an inflating robot
that is top-level in round 0 and never again."""
import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.federated import RobotProfile, plan_round
from mtf_grasp.federated.attacks import Adversary, Attack
from mtf_grasp.federated.config import experiment_from_mapping
from mtf_grasp.federated.experiment import run_method
from mtf_grasp.federated.aggregation import effective_steps
from mtf_grasp.federated.plausibility import TrainingReport, capped, claim_holds, implausible, implausible_in_fleet
from mtf_grasp.federated.workload import prepare_workload

PROFILES = [RobotProfile('robot_0', 10, (5, 5)), RobotProfile('robot_1', 20, (10, 10)),
            RobotProfile('robot_2', 30, (30, 0)), RobotProfile('robot_3', 400, (200, 200))]


def test_the_cap_limits_a_claim_to_a_multiple_of_the_median():
    # median of 10 20 30 400 = 25; cap 2 -> 50; robot_3 keeps its histogram's shape.
    assert capped(PROFILES, cap=2.0) == [*PROFILES[:3], RobotProfile('robot_3', 50, (25, 25))]
    assert capped(PROFILES, cap=20.0) == PROFILES


@pytest.mark.parametrize('claimed, steps, holds', [(16, 4, True), (17, 4, False), (17, 6, True), (0, 0, True)])
def test_a_claim_holds_when_the_steps_cover_it(claimed, steps, holds):
    # 2 epochs in batches of 8: 16 samples take 2·2 = 4 steps, 17 take 2·3 = 6.
    assert claim_holds(claimed, steps=steps, epochs=2, batch_size=8) is holds


def test_reports_are_summed_over_the_round_and_silent_robots_are_not_judged():
    reports = [TrainingReport('robot_0', 2, 1), TrainingReport('robot_0', 4, 2),   # 3 epochs, 6 steps: 16 ok
               TrainingReport('robot_1', 3, 1)]                                     # 20 needs 3 steps: ok
    claims = [RobotProfile('robot_0', 16, (16,)), RobotProfile('robot_1', 400, (400,)),
              RobotProfile('robot_2', 999, (999,))]
    assert implausible(claims, reports, batch_size=8) == ['robot_1']


def test_the_fleet_judges_members_by_their_own_steps_beyond_the_seed():
    # robot_1 coordinates robot_0 and robot_2; robot_3 coordinates nobody. Batches of 8, et 1, er 2.
    plan = plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count=2)
    assert dict(plan.clusters) == {'robot_1': ('robot_2', 'robot_0'), 'robot_3': ()}
    seed = 3.0                    # 20 claimed need 3 steps in the seed epoch: held
    sent = {'robot_1': seed, 'robot_0': seed + 4, 'robot_2': seed + 7, 'robot_3': 2.0}
    # robot_0: 10 need 2·2 = 4 own steps (held); robot_2: 30 need 2·4 = 8 (7 is short);
    # robot_3: 400 need 50 in its seed epoch (2 is short).
    assert implausible_in_fleet(PROFILES, plan, sent, seed_epochs=1, local_epochs=2, batch_size=8,
                                momentum=0.0) == ['robot_2', 'robot_3']
    # Nothing signed by robot_1: its members cannot be judged.
    del sent['robot_1']
    assert implausible_in_fleet(PROFILES, plan, sent, seed_epochs=1, local_epochs=2, batch_size=8,
                                momentum=0.0) == ['robot_3']


def test_the_fleet_compares_effective_steps_under_momentum_and_judges_a_flat_plan_on_its_own():
    plan = plan_round(PROFILES, round_index=0, method='fedavg', top_level_count=0)
    exact = {'robot_0': effective_steps(4, 0.9), 'robot_2': effective_steps(7, 0.9)}
    assert implausible_in_fleet(PROFILES, plan, exact, seed_epochs=1, local_epochs=2, batch_size=8,
                                momentum=0.9) == ['robot_2']


def test_ineligible_robots_are_never_top_level():
    plan = plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count=2)
    assert plan.top_level == ('robot_3', 'robot_1')
    plan = plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count=2, ineligible=frozenset({'robot_3'}))
    assert plan.top_level == ('robot_1', 'robot_0') and 'robot_3' in plan.clusters['robot_1'] + plan.clusters['robot_0']
    with pytest.raises(ValueError, match='no robot is eligible'):
        plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count=1,
                   ineligible=frozenset(p.robot_id for p in PROFILES))


def test_a_bad_cap_names_the_field():
    with pytest.raises(InputError, match='defences: count_cap must be at least 1, got 0.5'):
        experiment_from_mapping({'defences': {'count_cap': 0.5}}, 'cfg')


@pytest.mark.slow
def test_an_inflating_robot_is_caught_after_its_first_round(tiny_simgrasp):
    config = experiment_from_mapping({
        'seed': 3, 'methods': ['mtf_avg'], 'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32},
        'data': {'root': str(tiny_simgrasp), 'test_fraction': 0.2}, 'partition': {'robots': 4, 'min_samples': 5},
        'federation': {'rounds': 2, 'top_level': 1, 'seed_epochs': 1, 'local_epochs': 1},
        'defences': {'check_claims': True}}, 'test')
    workload = prepare_workload(config)
    liar = min(workload.profiles, key=lambda p: p.sample_count).robot_id
    adversary = Adversary((Attack(liar, 'inflated_profile'),))
    assert plan_round(adversary.profiles(workload.profiles, 0), round_index=0, method='mtf_avg',
                      top_level_count=1).top_level == (liar,)
    result = run_method('mtf_avg', config=config, workload=workload, adversary=adversary)
    first, second = result['defences_per_round']
    assert first['implausible'] == 1 and first['events'] == [
        {'tier': 'server', 'by': 'server', 'reason': 'implausible_profile', 'robot_id': liar}]
    assert second['implausible'] == 0   # flagged once
    assert result['top_level_per_round'][0] == [liar] and liar not in result['top_level_per_round'][1]
