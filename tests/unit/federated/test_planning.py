import os
import subprocess
import sys

import pytest

from mtf_grasp.federated import RobotProfile, plan_round, robot_seed
from mtf_grasp.federated.planning import TopLevelFraction, resolve_top_level

PROFILES = [RobotProfile('robot_0', 12, (12, 0, 0)), RobotProfile('robot_1', 90, (30, 30, 30)),
            RobotProfile('robot_2', 60, (40, 20, 0)), RobotProfile('robot_3', 30, (10, 10, 10)),
            RobotProfile('robot_4', 15, (5, 5, 5))]


def test_mtf_plan_picks_top_j_and_assigns_the_rest():
    plan = plan_round(PROFILES, round_index=3, method='mtf_avg', top_level_count=2)
    # IS: r1 1, r3 .5 + .5/3 = .667, r4 .5 + .5/6 = .583, r2 .5·(1 − 1/√3) + .5·2/3 = .545, r0 .067
    assert [r[0] for r in plan.ranking] == ['robot_1', 'robot_3', 'robot_4', 'robot_2', 'robot_0']
    assert [r[1] for r in plan.ranking] == pytest.approx([1.0, 2 / 3, 7 / 12, 0.5 * (1 - 3 ** -0.5) + 1 / 3, 1 / 15])
    assert plan.top_level == ('robot_1', 'robot_3')
    # balanced: loads 90/30; r2 (60) -> r3 (90); r4 (15) -> r1 (tie 90/90 -> first); r0 (12) -> r3
    assert plan.clusters == {'robot_1': ('robot_4',), 'robot_3': ('robot_2', 'robot_0')}
    assert plan.coordinator_of('robot_0') == 'robot_3'
    assert plan.coordinator_of('robot_1') is None
    assert plan.tiered and plan.round_index == 3


def test_flat_methods_have_no_tiers():
    plan = plan_round(PROFILES, round_index=0, method='fednova', top_level_count=2)
    assert plan.top_level == () and plan.clusters == {} and not plan.tiered
    assert plan.robot_ids == [f'robot_{i}' for i in range(5)]


@pytest.mark.parametrize('ranking, first', [('dds', 'robot_1'), ('dqs', 'robot_1')])
def test_single_score_rankings(ranking, first):
    plan = plan_round(PROFILES, round_index=0, method='mtf_nova', top_level_count=2, ranking=ranking)
    order = [r[0] for r in plan.ranking]
    assert order[0] == first
    if ranking == 'dds':   # r3, r4 are balanced too: ties by id after r1
        assert order[:3] == ['robot_1', 'robot_3', 'robot_4']
    else:
        assert order[:3] == ['robot_1', 'robot_2', 'robot_3']


def test_random_ranking_is_seeded_per_round():
    plans = [plan_round(PROFILES, round_index=r, method='mtf_avg', top_level_count=2, ranking='random', seed=5)
             for r in range(6)]
    again = plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count=2, ranking='random', seed=5)
    assert again == plans[0]
    assert len({p.top_level for p in plans}) > 1


def test_bad_plan_inputs():
    with pytest.raises(ValueError, match='j=5'):
        plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count=5)
    with pytest.raises(ValueError, match='unknown method'):
        plan_round(PROFILES, round_index=0, method='scaffold', top_level_count=1)
    with pytest.raises(ValueError, match='unknown ranking'):
        plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count=1, ranking='age')


def test_robot_seed_is_stable_across_processes():
    code = ('from mtf_grasp.federated import robot_seed; '
            'print(robot_seed(7, "robot_3", 4), robot_seed(7, "robot_4", 4), robot_seed(7, "robot_3", 5))')
    # another interpreter with another string-hash salt than this one computes the same seeds
    other = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                           env={**os.environ, 'PYTHONHASHSEED': str(hash('salt') % 1000 + 1)}).stdout
    assert other == f'{robot_seed(7, "robot_3", 4)} {robot_seed(7, "robot_4", 4)} {robot_seed(7, "robot_3", 5)}\n'
    assert len({robot_seed(7, 'robot_3', 4), robot_seed(7, 'robot_4', 4), robot_seed(7, 'robot_3', 5),
                robot_seed(8, 'robot_3', 4)}) == 4
    assert 0 <= robot_seed(7, 'robot_3', 4) < 2 ** 31


@pytest.mark.parametrize('rule, robots, j', [
    (2, 200, 2), ('sqrt', 7, 3), ('sqrt', 25, 5), ('sqrt', 200, 14), ('sqrt', 2, 1),
    (TopLevelFraction(0.1), 200, 20), (TopLevelFraction(0.1), 7, 1), (TopLevelFraction(0.9), 3, 2),
])
def test_top_level_rules_give_j_from_n(rule, robots, j):
    assert resolve_top_level(rule, robots) == j


def test_a_top_level_rule_follows_the_robots_of_the_round():
    plan = plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count='sqrt')  # round(√5) = 2
    assert plan.top_level == plan_round(PROFILES, round_index=0, method='mtf_avg', top_level_count=2).top_level
    assert len(plan_round(PROFILES[:4], round_index=0, method='mtf_avg',
                          top_level_count=TopLevelFraction(0.5)).top_level) == 2
    with pytest.raises(ValueError, match='fraction must lie in'):
        TopLevelFraction(1.0)
