"""Approximate-time matching of colour, depth and camera_info."""
import pytest

from mtf_grasp.perception import DroppedFrame, RgbdSynchronizer

MS = 1_000_000


def make(slop_ms=10, queue=3):
    dropped = []
    return RgbdSynchronizer(slop_s=slop_ms / 1000, queue_size=queue, on_drop=dropped.append), dropped


def test_matches_nearest_depth_and_info_within_slop():
    sync, dropped = make()
    assert sync.add('depth', stamp_ns=95 * MS, message='d95') is None
    assert sync.add('depth', stamp_ns=103 * MS, message='d103') is None
    assert sync.add('color', stamp_ns=100 * MS, message='c100') is None
    frame = sync.add('info', stamp_ns=100 * MS, message='i100')
    assert (frame.stamp_ns, frame.color, frame.depth, frame.info) == (100 * MS, 'c100', 'd103', 'i100')
    assert dropped == []


def test_arrival_order_does_not_matter():
    for order in (('color', 'depth', 'info'), ('info', 'depth', 'color'), ('depth', 'color', 'info')):
        sync, _ = make()
        frames = [sync.add(stream, stamp_ns=7 * MS, message=stream) for stream in order]
        assert frames[:2] == [None, None]
        assert frames[2].color == 'color'


def test_out_of_slop_depth_never_matches():
    sync, _ = make(slop_ms=10)
    sync.add('info', stamp_ns=100 * MS, message='i')
    sync.add('depth', stamp_ns=111 * MS, message='d')
    assert sync.add('color', stamp_ns=100 * MS, message='c') is None


def test_depth_is_used_once_and_info_may_be_shared():
    sync, _ = make(slop_ms=20)
    sync.add('info', stamp_ns=100 * MS, message='i')
    sync.add('depth', stamp_ns=100 * MS, message='d1')
    assert sync.add('color', stamp_ns=100 * MS, message='c1').depth == 'd1'
    assert sync.add('color', stamp_ns=110 * MS, message='c2') is None      # d1 is spent
    assert sync.add('depth', stamp_ns=110 * MS, message='d2').info == 'i'


def test_missing_camera_info_drops_frames_from_a_full_queue():
    sync, dropped = make(queue=2)
    for t in range(4):
        assert sync.add('color', stamp_ns=t * 100 * MS, message=t) is None
        sync.add('depth', stamp_ns=t * 100 * MS, message=t)
    assert dropped == [DroppedFrame(stamp_ns=0, missing=('info',)), DroppedFrame(stamp_ns=100 * MS, missing=('info',))]


def test_a_newer_match_drops_older_unmatched_colour_frames():
    sync, dropped = make()
    sync.add('color', stamp_ns=100 * MS, message='old')
    sync.add('color', stamp_ns=200 * MS, message='new')
    sync.add('info', stamp_ns=200 * MS, message='i')
    assert sync.add('depth', stamp_ns=200 * MS, message='d').color == 'new'
    assert dropped == [DroppedFrame(stamp_ns=100 * MS, missing=('depth', 'info'))]


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        RgbdSynchronizer(slop_s=-1)
    with pytest.raises(ValueError, match='unknown stream'):
        RgbdSynchronizer(slop_s=0.01).add('thermal', stamp_ns=0, message=None)
