import json

import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.federated import Partition, class_noniid, quantity_skew, split_test

NAMES = [f'scene_{i:04d}' for i in range(300)]
LABELS = [i % 6 for i in range(300)]


def test_split_test_sizes_and_determinism():
    pool, test = split_test(NAMES, fraction=0.2, seed=3)
    assert len(test) == 60 and len(pool) == 240
    assert set(pool).isdisjoint(test) and set(pool) | set(test) == set(NAMES)
    assert split_test(list(reversed(NAMES)), fraction=0.2, seed=3) == (pool, test)
    assert split_test(NAMES, fraction=0.2, seed=4)[1] != test


def test_quantity_skew_sizes_minimum_and_determinism():
    part = quantity_skew(NAMES, robots=7, beta=0.7, seed=0, dataset='/data/sim')
    sizes = part.sizes()
    assert list(sizes) == [f'robot_{i}' for i in range(7)]
    assert sum(sizes.values()) == 240 and len(part.test) == 60
    assert min(sizes.values()) >= 10
    assert max(sizes.values()) >= 2 * min(sizes.values())   # β = 0.7 is skewed
    again = quantity_skew(NAMES, robots=7, beta=0.7, seed=0, dataset='/data/sim')
    assert again == part
    assert quantity_skew(NAMES, robots=7, beta=0.7, seed=1).sizes() != sizes
    held = [n for names in part.robots.values() for n in names]
    assert len(held) == len(set(held)) and set(held).isdisjoint(part.test)


def test_max_train_keeps_the_full_test_set():
    full = quantity_skew(NAMES, robots=7, beta=0.7, seed=0)
    small = quantity_skew(NAMES, robots=7, beta=0.7, seed=0, max_train=100)
    assert small.test == full.test and len(small.test) == 60
    assert sum(small.sizes().values()) == 100 and min(small.sizes().values()) >= 10
    held = {n for names in small.robots.values() for n in names}
    assert held <= {n for names in full.robots.values() for n in names}


def test_quantity_skew_minimum_is_enforced_even_for_tiny_beta():
    # most Dirichlet(0.3) draws leave some robot under 10 of 150 samples: they are redrawn
    part = quantity_skew(NAMES[:150], robots=7, beta=0.3, seed=9, test_fraction=0.0)
    assert min(part.sizes().values()) >= 10 and sum(part.sizes().values()) == 150
    with pytest.raises(ValueError, match='cannot give'):
        quantity_skew(NAMES[:60], robots=7, beta=0.7, seed=0, test_fraction=0.0)


def test_k_classes_per_robot():
    part = class_noniid(NAMES, LABELS, robots=6, seed=0, classes_per_robot=2, test_fraction=0.0)
    label_of = dict(zip(NAMES, LABELS))
    for names in part.robots.values():
        assert len({label_of[n] for n in names}) == 2
    # each class is held by exactly two robots and split evenly: 50 samples -> 25 + 25
    assert sorted(part.sizes().values()) == [50] * 6


def test_dirichlet_alpha_over_classes_is_skewed_and_seeded():
    part = class_noniid(NAMES, LABELS, robots=5, seed=2, alpha=0.3)
    again = class_noniid(NAMES, LABELS, robots=5, seed=2, alpha=0.3)
    assert part == again
    assert min(part.sizes().values()) >= 10 and sum(part.sizes().values()) == 240
    label_of = dict(zip(NAMES, LABELS))
    shares = [max(sum(label_of[n] == c for n in names) for c in range(6)) / len(names)
              for names in part.robots.values()]
    assert max(shares) > 0.4   # uniform would be 1/6
    with pytest.raises(ValueError, match='exactly one'):
        class_noniid(NAMES, LABELS, robots=5, seed=2)


def test_manifest_round_trip_and_format(tmp_path):
    part = quantity_skew(NAMES, robots=7, beta=0.7, seed=0, dataset='/data/sim')
    path = tmp_path / 'partition.json'
    part.save(path)
    data = json.loads(path.read_text())
    assert {'dataset', 'seed', 'method', 'robots', 'test'} <= set(data)
    assert data['robots']['robot_3'] == part.robots['robot_3']
    assert Partition.load(path) == part


class _Names:
    def __init__(self, names):
        self._index = {n: i for i, n in enumerate(names)}

    def index_of(self, name):
        return self._index[name]


def test_manifest_indices_and_errors(tmp_path):
    part = quantity_skew(NAMES, robots=7, beta=0.7, seed=0)
    dataset = _Names(NAMES)
    assert [NAMES[i] for i in part.indices(dataset, 'robot_2')] == part.robots['robot_2']
    assert len(part.indices(dataset, 'test')) == 60
    with pytest.raises(InputError, match='no robot'):
        part.indices(dataset, 'robot_9')
    with pytest.raises(InputError, match='not in dataset'):
        part.indices(_Names(NAMES[:10]), 'robot_2')
    bad = tmp_path / 'bad.json'
    bad.write_text('{"dataset": "x", "seed": 0,\n "method": 3}')
    with pytest.raises(InputError, match="'method'"):
        Partition.load(bad)
    bad.write_text('{"dataset": ')
    with pytest.raises(InputError, match=r'bad.json:1: invalid JSON'):
        Partition.load(bad)
    twice = part.to_json()
    twice['test'] = twice['test'] + [part.robots['robot_0'][0]]
    bad.write_text(json.dumps(twice))
    with pytest.raises(InputError, match='both robot_0 and test'):
        Partition.load(bad)
    with pytest.raises(InputError, match='no such'):
        Partition.load(tmp_path / 'missing.json')
