import pytest

from mtf_grasp.federated import RobotProfile, assign
from mtf_grasp.federated.assignment import with_at_least

SIZES = {'robot_0': 100, 'robot_1': 80, 'robot_2': 50, 'robot_3': 40, 'robot_4': 30, 'robot_5': 20,
         'robot_6': 10}
PROFILES = [RobotProfile(rid, n, (n,)) for rid, n in SIZES.items()]


def test_balanced_fills_the_lightest_coordinator_largest_first():
    # loads 100/80; +50 -> r1 130; +40 -> r0 140; +30 -> r1 160; +20 -> r0 160; tie, first -> r0
    clusters = assign(PROFILES, ['robot_0', 'robot_1'], strategy='balanced')
    assert clusters == {'robot_0': ['robot_3', 'robot_5', 'robot_6'], 'robot_1': ['robot_2', 'robot_4']}


def test_round_robin_deals_in_the_given_order():
    clusters = assign(PROFILES, ['robot_0', 'robot_1'], strategy='round_robin')
    assert clusters == {'robot_0': ['robot_2', 'robot_4', 'robot_6'], 'robot_1': ['robot_3', 'robot_5']}


def test_class_complement_makes_cluster_histograms_uniform():
    profiles = [RobotProfile('a', 10, (10, 0)), RobotProfile('b', 10, (0, 10)),
                RobotProfile('c', 6, (0, 6)), RobotProfile('d', 4, (4, 0))]
    # c: a+c = (10,6) DDS 0.75 vs b+c = (0,16) DDS 0 -> a.
    # d: a+d = (14,6) DDS 0.6 vs b+d = (4,10) DDS 4/7 -> a.
    assert assign(profiles, ['a', 'b'], strategy='class_complement') == {'a': ['c', 'd'], 'b': []}
    # With d larger than c's complement the other coordinator wins.
    profiles[3] = RobotProfile('d', 9, (9, 0))
    # d first (9 > 6): a+d = (19,0) DDS 0, b+d = (9,10) -> b; then c: a+c (10,6) .75, b+c (9,16) .44 -> a
    assert assign(profiles, ['a', 'b'], strategy='class_complement') == {'a': ['c'], 'b': ['d']}


@pytest.mark.parametrize('strategy', ['balanced', 'round_robin', 'class_complement'])
def test_every_low_level_robot_is_assigned_once(strategy):
    clusters = assign(PROFILES, ['robot_1', 'robot_4', 'robot_0'], strategy=strategy)
    members = [m for ms in clusters.values() for m in ms]
    assert sorted(members) == ['robot_2', 'robot_3', 'robot_5', 'robot_6']
    assert list(clusters) == ['robot_1', 'robot_4', 'robot_0']


def test_unknown_strategy_and_coordinator():
    with pytest.raises(ValueError, match='unknown assignment strategy'):
        assign(PROFILES, ['robot_0'], strategy='nearest')
    with pytest.raises(ValueError, match='no profile'):
        assign(PROFILES, ['robot_9'], strategy='balanced')


def test_a_coordinator_balanced_leaves_alone_takes_the_smallest_members_of_the_largest_cluster():
    profiles = [RobotProfile('robot_0', 500, (500,)), *PROFILES[1:]]
    assert assign(profiles, ['robot_0', 'robot_1'], strategy='balanced') == {
        'robot_0': [], 'robot_1': ['robot_2', 'robot_3', 'robot_4', 'robot_5', 'robot_6']}
    # robot_6 (10 samples), then robot_5 (20): the cluster that gives keeps three.
    assert assign(profiles, ['robot_0', 'robot_1'], strategy='balanced', min_members=2) == {
        'robot_0': ['robot_6', 'robot_5'], 'robot_1': ['robot_2', 'robot_3', 'robot_4']}


def test_members_are_moved_only_while_the_giving_cluster_keeps_more_than_the_minimum():
    clusters = {'a': ['m1', 'm2', 'm3', 'm4', 'm5'], 'b': [], 'c': []}
    sizes = {'m1': 5, 'm2': 4, 'm3': 3, 'm4': 3, 'm5': 1}
    profiles = [RobotProfile(r, n, (n,)) for r, n in sizes.items()]
    # b takes m5 (1 sample), then m4 (the last of the 3-sample ties); c takes m3; a keeps two, c stays at one.
    assert with_at_least(clusters, profiles, 2) == {'a': ['m1', 'm2'], 'b': ['m5', 'm4'], 'c': ['m3']}
    assert with_at_least(clusters, profiles, 0) == clusters
    assert with_at_least({'a': ['m1'], 'b': []}, profiles, 2) == {'a': ['m1'], 'b': []}
    assert clusters['b'] == []   # the input is not changed


@pytest.mark.parametrize('strategy', ['balanced', 'round_robin', 'class_complement'])
def test_with_a_minimum_every_low_level_robot_is_still_assigned_once(strategy):
    profiles = [RobotProfile('robot_0', 900, (900,)), *PROFILES[1:]]
    clusters = assign(profiles, ['robot_0', 'robot_1', 'robot_4'], strategy=strategy, min_members=2)
    assert sorted(m for ms in clusters.values() for m in ms) == ['robot_2', 'robot_3', 'robot_5', 'robot_6']
    sizes = sorted(map(len, clusters.values()))
    assert not (sizes[0] < 2 and sizes[-1] > 2), clusters   # no cluster short while another could give
