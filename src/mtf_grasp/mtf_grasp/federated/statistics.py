"""Paired differences between methods over seeds, in percentage points, with 95 % t-intervals.

Runs of two methods on the same seed share the partition, the initial model and the test split, so
the per-seed difference removes what the seed does to both; the interval is the Student t
interval of the mean difference with the sample standard deviation (ddof = 1).
"""
from __future__ import annotations

import math
import statistics
from typing import Sequence

from scipy import stats


def paired_difference(values: Sequence[float], baseline: Sequence[float], *, confidence: float = 0.95) -> dict:
    """{"seeds", "mean_pp", "sd_pp", "se_pp", "ci95_pp": [low, high]} of values − baseline (accuracies
    in [0, 1], paired by position). With one pair, sd, se and the interval are None."""
    if len(values) != len(baseline) or not values:
        raise ValueError(f'need equally many paired values, got {len(values)} and {len(baseline)}')
    diffs = [100.0 * (v - b) for v, b in zip(values, baseline)]
    n = len(diffs)
    mean = statistics.fmean(diffs)
    if n < 2:
        return {'seeds': n, 'mean_pp': mean, 'sd_pp': None, 'se_pp': None, 'ci95_pp': None}
    sd = statistics.stdev(diffs)
    se = sd / math.sqrt(n)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * se
    return {'seeds': n, 'mean_pp': mean, 'sd_pp': sd, 'se_pp': se, 'ci95_pp': [mean - half, mean + half]}


def describe(values: Sequence[float]) -> dict:
    """{"seeds", "mean", "sd", "min", "max"} of accuracies (sd with ddof = 1; None for one value)."""
    return {'seeds': len(values), 'mean': statistics.fmean(values),
            'sd': statistics.stdev(values) if len(values) > 1 else None,
            'min': min(values), 'max': max(values)}
