"""round_timeline: a round's wall time split along the chain of events that ended it."""
import math

from mtf_grasp.nodes.fleet.round_timeline import round_timeline


def transfer(sender, receiver, at, round_index=0):
    return {'kind': 'transfer', 'round': round_index, 'sender': sender, 'receiver': receiver,
            'payload_bytes': 10, 'at': at}


def training(robot, role, ended, train_s, cpu_s, round_index=0):
    return {'kind': 'training', 'round': round_index, 'robot': robot, 'role': role, 'started_at': ended - train_s,
            'ended_at': ended, 'train_s': train_s + 0.125,   # perf_counter's reading need not match the stamps
            'cpu_s': cpu_s, 'at': ended + 0.01}   # written a little after it ended


def round_record(*, end, duration, clusters, participants):
    return {'kind': 'round', 'round': 0, 'started_at': end - duration, 'ended_at': end,
            'duration_s': duration - 0.25,   # the monotonic clock's reading need not match the stamps
            'clusters': clusters, 'participants': participants, 'at': end + 0.2}


TIERED = [
    # cluster a (members b, c) reaches the server last; cluster d earlier
    transfer('server', 'a', 100.5), training('a', 'seed', 103.0, 2.0, 1.5),
    transfer('a', 'b', 103.25), transfer('a', 'c', 103.5),
    training('b', 'fine_tune', 105.0, 1.5, 1.0), training('c', 'fine_tune', 106.5, 2.5, 2.0),
    transfer('b', 'a', 105.25), transfer('c', 'a', 107.0),
    transfer('a', 'server', 108.0), transfer('d', 'server', 104.0),
    transfer('server', 'd', 100.25), training('d', 'seed', 102.0, 1.0, 1.0),
    training('c', 'fine_tune', 50.0, 9.0, 9.0, round_index=1),   # another round: ignored
]


def test_a_tiered_round_splits_along_its_last_cluster_and_that_cluster_s_last_member():
    timeline = round_timeline(TIERED, round_record(end=109.0, duration=9.0, clusters={'a': ['b', 'c'], 'd': []},
                                                   participants=['a', 'b', 'c', 'd']))
    assert timeline == {
        'global_to_coordinator': 0.5, 'before_seed': 0.5, 'seed_cpu': 1.5, 'seed_waiting': 0.5,
        'seed_to_member': 0.5, 'before_fine_tuning': 0.5, 'fine_tuning_cpu': 2.0, 'fine_tuning_waiting': 0.5,
        'member_to_coordinator': 0.5, 'cluster_to_server': 1.0, 'server_closing': 1.0}
    assert math.isclose(sum(timeline.values()), 9.0)


def test_a_flat_round_splits_along_its_last_robot():
    records = [transfer('server', 'x', 10.5), training('x', 'local', 13.0, 2.0, 2.0), transfer('x', 'server', 13.5),
               transfer('server', 'y', 10.25), training('y', 'local', 11.0, 0.5, 0.5), transfer('y', 'server', 11.5)]
    timeline = round_timeline(records, round_record(end=14.0, duration=4.0, clusters={}, participants=['x', 'y']))
    assert timeline == {'global_to_robot': 0.5, 'before_training': 0.5, 'training_cpu': 2.0, 'training_waiting': 0.0,
                        'model_to_server': 0.5, 'server_closing': 0.5}


def test_a_cluster_without_members_goes_from_its_seed_to_the_server():
    timeline = round_timeline(TIERED, round_record(end=104.5, duration=4.5, clusters={'d': []}, participants=['d']))
    assert timeline == {'global_to_coordinator': 0.25, 'before_seed': 0.75, 'seed_cpu': 1.0, 'seed_waiting': 0.0,
                        'cluster_to_server': 2.0, 'server_closing': 0.5}


def test_missing_or_unstamped_records_give_no_timeline():
    without_seed = [r for r in TIERED if not (r['kind'] == 'training' and r['robot'] == 'a')]
    record = round_record(end=109.0, duration=9.0, clusters={'a': ['b', 'c']}, participants=['a', 'b', 'c'])
    assert round_timeline(without_seed, record) is None
    assert round_timeline(TIERED, {**record, 'started_at': None}) is None
    assert round_timeline(TIERED, {**record, 'ended_at': None}) is None
    assert round_timeline([], record) is None
