"""Replay timing: recorded spacing over rate, loops restart one frame period after the end."""
import itertools

import pytest

from mtf_grasp.bags import playback_schedule

S = 1_000_000_000


def test_recorded_spacing_scaled_by_rate():
    stamps = [10 * S, 10 * S, int(10.5 * S), 11 * S]
    assert list(playback_schedule(stamps, rate=2.0)) == [(0, 0.0), (1, 0.0), (2, 0.25), (3, 0.5)]


def test_loop_repeats_after_one_frame_period():
    stamps = [0, S // 2, S]
    first_seven = list(itertools.islice(playback_schedule(stamps, loop=True), 7))
    assert first_seven == [(0, 0.0), (1, 0.5), (2, 1.0), (0, 1.5), (1, 2.0), (2, 2.5), (0, 3.0)]


def test_edge_cases():
    assert list(playback_schedule([])) == []
    assert list(itertools.islice(playback_schedule([5], loop=True), 3)) == [(0, 0.0), (0, 1.0), (0, 2.0)]
    with pytest.raises(ValueError):
        list(playback_schedule([0], rate=0))
