"""Class labellers: the class of each sample used by the scores and class-based partitions.

`object`: the dataset's category index (SimGrasp, Jacquard-style categories files).
`angle`: the bin of the sample's dominant grasp angle, 6 bins over [−90°, 90°); the dominant
angle is the bin most of its ground-truth rectangles fall in (ties: the lower bin).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

from mtf_grasp.errors import InputError

ANGLE_BINS = 6
LABELLERS = ('object', 'angle')


def angle_bin(angle: float, bins: int = ANGLE_BINS) -> int:
    """Bin of a grasp angle (rad); θ and θ ± π are one grasp, so +90° falls in the −90° bin."""
    turn = (angle + math.pi / 2) % math.pi   # [0, π) from −90°
    return min(int(turn / math.pi * bins), bins - 1)


def dominant_angle_bin(angles: Sequence[float], bins: int = ANGLE_BINS) -> int:
    counts = Counter(angle_bin(a, bins) for a in angles)
    return min(counts, key=lambda b: (-counts[b], b))


def class_count(dataset, labeller: str) -> int:
    """K, the number of classes the labeller can produce on this dataset."""
    if labeller == 'angle':
        return ANGLE_BINS
    if labeller == 'object':
        if not dataset.categories:
            raise InputError(f"{dataset.root}: labeller 'object' needs a dataset with categories "
                             f"(use labeller: angle)")
        return len(dataset.categories)
    raise InputError(f'unknown labeller {labeller!r} (known: {", ".join(LABELLERS)})')


def label_samples(dataset, labeller: str, *, indices: Sequence[int] | None = None) -> list[int]:
    """Class of each sample (all, or `indices`), read from grasp files only, no images."""
    class_count(dataset, labeller)
    indices = range(len(dataset)) if indices is None else indices
    if labeller == 'object':
        return [dataset.category(i) for i in indices]
    return [dominant_angle_bin([r.angle for r in dataset.source_rects(i)]) for i in indices]


def histogram(labels: Sequence[int], classes: int) -> tuple[int, ...]:
    """Samples per class, K entries."""
    counts = [0] * classes
    for label in labels:
        counts[label] += 1
    return tuple(counts)
