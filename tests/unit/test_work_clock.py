"""WorkClock: a node's own work as wall and thread CPU seconds (nodes/fleet/work_clock.py)."""
import hashlib
import threading

from mtf_grasp.nodes.fleet.work_clock import WorkClock


def test_waiting_counts_as_wall_time_only():
    work = WorkClock()
    with work.timing():
        threading.Event().wait(0.2)   # nothing sets it: the thread waits without computing
    assert work.wall_s >= 0.2
    assert work.cpu_s < 0.5 * work.wall_s


def test_computing_counts_as_both_and_blocks_add_up():
    work = WorkClock()
    for _ in range(2):
        with work.timing():
            hashlib.sha256(bytes(20_000_000)).digest()
    assert work.cpu_s > 0.0
    assert work.wall_s > 0.0
    first = work.cpu_s
    total = work + work
    assert (total.wall_s, total.cpu_s) == (2 * work.wall_s, 2 * first)


def test_a_block_that_raises_is_still_counted():
    work = WorkClock()
    try:
        with work.timing():
            hashlib.sha256(bytes(5_000_000)).digest()
            raise ValueError('refused')
    except ValueError:
        pass
    assert work.wall_s > 0.0


def test_a_paused_block_is_left_out_of_the_timing_around_it():
    work = WorkClock()
    with work.timing():
        hashlib.sha256(bytes(5_000_000)).digest()
        with work.paused():
            threading.Event().wait(0.3)
    assert 0.0 < work.wall_s < 0.3
    assert work.cpu_s >= 0.0
