"""Depth-based finger clearance on synthetic top-down depth images with known geometry."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from mtf_grasp.perception.clearance import blocked_share, rerank_by_clearance
from mtf_grasp.perception.intrinsics import CameraIntrinsics

K = CameraIntrinsics(fx=500.0, fy=500.0, cx=100.0, cy=100.0, width=200, height=200)
# At 0.46 m, 1 cm is 10.9 px: fingers are ~4 px thick and ~22 px wide.


def _table_with_box(*, neighbour: bool = False) -> np.ndarray:
    depth = np.full((200, 200), 0.5, dtype=np.float32)        # table 0.5 m from the camera
    depth[90:111, 90:111] = 0.46                               # a 4 cm tall box, ~2 cm wide
    if neighbour:
        depth[85:116, 126:140] = 0.44                          # a taller neighbour to its right
    return depth


def test_clear_when_the_opening_straddles_the_box():
    share = blocked_share(x=100, y=100, angle=0.0, length_px=40, depth_m=_table_with_box(), intrinsics=K)
    assert share == 0.0


def test_blocked_when_a_finger_lands_on_the_box_or_a_neighbour():
    narrow = blocked_share(x=100, y=100, angle=0.0, length_px=12, depth_m=_table_with_box(), intrinsics=K)
    assert narrow == pytest.approx(2 / 3 * 5 / 7)               # samples on the box top: 2 of 3 along, 5 of 7 across
    crowded = blocked_share(x=100, y=100, angle=0.0, length_px=54, depth_m=_table_with_box(neighbour=True),
                            intrinsics=K)
    assert crowded == pytest.approx(0.5)                        # the right finger on the neighbour
    turned = blocked_share(x=100, y=100, angle=math.pi / 2, length_px=54, depth_m=_table_with_box(neighbour=True),
                           intrinsics=K)
    assert turned == 0.0                                        # closing along y misses it


def test_no_depth_at_the_centre():
    depth = _table_with_box()
    depth[95:106, 95:106] = 0.0
    assert blocked_share(x=100, y=100, angle=0.0, length_px=40, depth_m=depth, intrinsics=K) is None


def test_rerank_puts_clear_grasps_first_in_their_order():
    g = [SimpleNamespace(name=n, cx=100, cy=100, angle=a, length=l)
         for n, a, l in (('blocked', 0.0, 54), ('narrow', 0.0, 12), ('clear', math.pi / 2, 54),
                         ('clear2', math.pi / 2, 40))]
    ranked = rerank_by_clearance(g, depth_m=_table_with_box(neighbour=True), intrinsics=K)
    assert [x.name for x in ranked] == ['clear', 'clear2', 'narrow', 'blocked']     # 0.48 before 0.5 blocked
