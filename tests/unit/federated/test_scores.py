import math

import pytest

from mtf_grasp.federated import RobotProfile, distribution_score, quantity_score, score_robots, top_level


@pytest.mark.parametrize('histogram, expected', [
    ([5, 5, 5, 5], 1.0),
    ([10, 0, 0, 0], 0.0),
    ([3, 1], 0.5),        # |p-u| = 0.25·√2, |e1-u| = 0.5·√2
    ([2, 1, 1], 0.75),    # |p-u|² = 1/24, |e1-u|² = 2/3, ratio 1/4
    ([0, 0, 7], 0.0),
    ([9], 1.0),
    ([0, 0], 0.0),
])
def test_distribution_score_on_hand_made_histograms(histogram, expected):
    assert distribution_score(histogram) == pytest.approx(expected, abs=1e-12)


def test_quantity_score_is_relative_to_the_largest_robot():
    assert [quantity_score(n, 40) for n in (40, 10, 20)] == [1.0, 0.25, 0.5]
    assert quantity_score(0, 0) == 0.0


def test_importance_ranking_with_equal_lambdas():
    profiles = [RobotProfile('robot_0', 10, (10, 0)),   # DDS 0,   DQS 0.25 -> 0.125
                RobotProfile('robot_1', 40, (20, 20)),  # DDS 1,   DQS 1    -> 1
                RobotProfile('robot_2', 20, (15, 5))]   # DDS 0.5, DQS 0.5  -> 0.5
    scores = score_robots(profiles)
    assert [s.robot_id for s in scores] == ['robot_1', 'robot_2', 'robot_0']
    assert [s.importance for s in scores] == pytest.approx([1.0, 0.5, 0.125])
    assert top_level(scores, 2) == ['robot_1', 'robot_2']


def test_lambdas_weigh_the_two_scores():
    profiles = [RobotProfile('robot_0', 40, (40, 0)), RobotProfile('robot_1', 20, (10, 10))]
    by_quantity = score_robots(profiles, lambda_dds=0.0, lambda_dqs=1.0)
    by_balance = score_robots(profiles, lambda_dds=1.0, lambda_dqs=0.0)
    assert [s.robot_id for s in by_quantity] == ['robot_0', 'robot_1']
    assert [s.robot_id for s in by_balance] == ['robot_1', 'robot_0']
    assert by_balance[0].importance == pytest.approx(1.0)
    assert by_quantity[1].importance == pytest.approx(0.5)


def test_ties_break_by_numeric_robot_id():
    profiles = [RobotProfile(f'robot_{i}', 10, (5, 5)) for i in (10, 2, 1)]
    assert [s.robot_id for s in score_robots(profiles)] == ['robot_1', 'robot_2', 'robot_10']
    assert all(math.isclose(s.importance, 1.0) for s in score_robots(profiles))


def test_top_level_count_out_of_range():
    with pytest.raises(ValueError, match='top-level count'):
        top_level(score_robots([RobotProfile('robot_0', 1, (1,))]), 2)
