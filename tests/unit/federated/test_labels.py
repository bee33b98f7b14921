import math

import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.federated.labels import angle_bin, class_count, dominant_angle_bin, histogram, label_samples
from mtf_grasp.grasping import open_dataset

from federated_data import QUICK_SPEC


@pytest.mark.parametrize('degrees, expected', [(-90, 0), (-60.01, 0), (-60, 1), (-1, 2), (0, 3), (59.9, 4),
                                               (60, 5), (89.9, 5), (90, 0), (180, 3)])
def test_angle_bins_cover_minus_90_to_90(degrees, expected):
    assert angle_bin(math.radians(degrees)) == expected


def test_dominant_bin_is_the_most_common_then_the_lowest():
    assert dominant_angle_bin([math.radians(d) for d in (10, 20, -80, -85)]) == 0
    assert dominant_angle_bin([math.radians(d) for d in (10, 20, 15, -85)]) == 3


def test_labellers_on_a_real_dataset(tiny_simgrasp):
    dataset = open_dataset(tiny_simgrasp, spec=QUICK_SPEC)
    objects = label_samples(dataset, 'object')
    assert histogram(objects, class_count(dataset, 'object')) == (30, 30, 30)
    angles = label_samples(dataset, 'angle', indices=[0, 1, 2])
    expected = [angle_bin(dataset.source_rects(i)[0].angle) for i in range(3)]
    assert angles == expected and class_count(dataset, 'angle') == 6
    with pytest.raises(InputError, match='unknown labeller'):
        label_samples(dataset, 'colour')
