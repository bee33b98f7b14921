"""The centralized trainer's learning-rate schedule under an epoch count or a time budget."""
import pytest

from mtf_grasp.grasping.train_job import cosine_factor, run_progress


def test_cosine_runs_from_one_to_zero():
    assert cosine_factor(progress=0.0) == 1.0
    assert cosine_factor(progress=0.5) == pytest.approx(0.5)
    assert cosine_factor(progress=1.0) == pytest.approx(0.0)
    assert cosine_factor(progress=1.7) == pytest.approx(0.0)


def test_progress_follows_epochs_without_a_budget():
    assert run_progress(5, 20, [{'seconds': 10.0}] * 5, None) == 0.25


def test_progress_follows_the_time_budget_when_it_ends_first():
    done = [{'seconds': 60.0}, {'seconds': 120.0}]   # 60 s per epoch, 10 minutes: 10 epochs fit
    assert run_progress(2, 40, done, 10.0) == pytest.approx(0.2)
    assert run_progress(2, 4, done, 10.0) == pytest.approx(0.5)   # the epoch count ends first
