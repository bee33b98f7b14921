"""Annotation draws the best grasp in its own colour and leaves the input untouched."""
import numpy as np

from mtf_grasp.perception import draw_grasps
from mtf_grasp.perception.annotate import BEST, JAW, OTHER


def test_draws_best_and_other_grasps_without_touching_the_input():
    rgb = np.zeros((60, 60, 3), np.uint8)
    best = np.array([[10, 10], [10, 30], [30, 30], [30, 10]])
    other = best + 25
    out = draw_grasps(rgb, [best, other])
    assert not rgb.any()
    colours = {tuple(c) for c in out.reshape(-1, 3)}
    assert {BEST, OTHER, JAW} <= colours
    assert tuple(out[30, 20]) == BEST             # a non-jaw edge of the best grasp
    assert tuple(out[20, 10]) == JAW              # edge 0-1 is a jaw
