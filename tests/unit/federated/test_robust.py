"""Defences: norm bounding against the round's reference, coordinate-wise trimmed mean and median,
the direction check, on hand-computed numbers; and the property that one malicious update (per cluster) cannot move a
trimmed mean outside the honest updates' coordinate range."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mtf_grasp.federated.robust import (BoundAction, BoundReason, Misdirected, NormBound, RecentGlobals,
                                        StreamingTrimmedMean, bound_update, coordinate_median, direction_check,
                                        global_step, trim_count, trimmed_mean, update_norm)


def t(*values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


REFERENCE = {'w': t(1.0, 1.0), 'b': t(0.0), 'bn.running_var': t(1.0), 'bn.num_batches_tracked': t(5, dtype=torch.int64)}


def update(w, b, *, var=1.0, batches=5):
    return {'w': t(*w), 'b': t(b), 'bn.running_var': t(var), 'bn.num_batches_tracked': t(batches, dtype=torch.int64)}


def test_update_norm_counts_only_what_gradients_move():
    # Δw = (3, 4), Δb = 0; the running variance and the batch counter do not count.
    assert update_norm(update((4.0, 5.0), 0.0, var=100.0, batches=9), REFERENCE) == 5.0


def test_an_update_within_the_bound_is_sent_on_unchanged():
    verdict = bound_update(update((4.0, 5.0), 0.0), REFERENCE, bound=NormBound(max_norm=5.0))
    assert (verdict.reason, verdict.norm, verdict.bound, verdict.accepted) == (BoundReason.WITHIN, 5.0, 5.0, True)
    assert verdict.state['w'].tolist() == [4.0, 5.0]


def test_clipping_scales_the_update_to_the_bound_and_leaves_statistics_alone():
    # Δ = (Δw, Δb) = (6, 8, 0), ‖Δ‖ = 10, B = 5: θ = θ_ref + Δ/2 = (4, 5, 0).
    verdict = bound_update(update((7.0, 9.0), 0.0, var=3.0, batches=7), REFERENCE, bound=NormBound(max_norm=5.0))
    assert (verdict.reason, verdict.norm, verdict.bound) == (BoundReason.CLIPPED, 10.0, 5.0)
    assert verdict.state['w'].tolist() == [4.0, 5.0] and verdict.state['w'].dtype == torch.float32
    assert verdict.state['bn.running_var'].item() == 3.0 and verdict.state['bn.num_batches_tracked'].item() == 7


def test_rejecting_refuses_an_update_over_the_bound_with_its_reason():
    verdict = bound_update(update((7.0, 9.0), 0.0), REFERENCE, bound=NormBound(max_norm=5.0, action='reject'))
    assert (verdict.reason, verdict.norm, verdict.accepted, verdict.state) == (BoundReason.NORM_EXCEEDED, 10.0, False, None)


def test_the_relative_bound_scales_with_the_reference_model():
    # ‖θ_ref‖ = ‖(1, 1, 0)‖ = √2; B = min(100, 2·√2) = 2√2; Δ = (2, 2, 0) has norm 2√2: within.
    bound = NormBound(max_norm=100.0, max_relative=2.0)
    assert bound.limit(REFERENCE) == pytest.approx(2 * math.sqrt(2))
    assert bound_update(update((3.0, 3.0), 0.0), REFERENCE, bound=bound).reason is BoundReason.WITHIN
    assert bound_update(update((3.0, 3.1), 0.0), REFERENCE, bound=bound).reason is BoundReason.CLIPPED


@pytest.mark.parametrize('bad', [math.nan, math.inf])
@pytest.mark.parametrize('action', list(BoundAction))
def test_a_non_finite_update_is_refused_whatever_the_action(bad, action):
    verdict = bound_update(update((bad, 1.0), 0.0), REFERENCE, bound=NormBound(max_norm=5.0, action=action))
    assert (verdict.reason, verdict.accepted) == (BoundReason.NON_FINITE, False)


@pytest.mark.parametrize('kwargs, message', [
    ({}, 'needs max_norm or max_relative'),
    ({'max_norm': 0.0}, 'max_norm must be positive, got 0.0'),
    ({'max_relative': -1.0}, 'max_relative must be positive, got -1.0'),
    ({'max_norm': 1.0, 'action': 'drop'}, "'drop' is not a valid BoundAction"),
])
def test_bad_bounds_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NormBound(**kwargs)


STATES = [{'w': t(1.0, 10.0), 'n': t(1, dtype=torch.int64)},
          {'w': t(2.0, -50.0), 'n': t(2, dtype=torch.int64)},
          {'w': t(3.0, 20.0), 'n': t(4, dtype=torch.int64)},
          {'w': t(400.0, 30.0), 'n': t(8, dtype=torch.int64)},
          {'w': t(5.0, 40.0), 'n': t(9, dtype=torch.int64)}]


def test_trimmed_mean_by_hand():
    # w[0]: sorted 1 2 3 5 400 -> keep 2 3 5 -> 10/3; w[1]: -50 10 20 30 40 -> 10 20 30 -> 20; n: 2 4 8 -> 14/3 -> 5.
    merged = trimmed_mean(STATES, trim=1)
    torch.testing.assert_close(merged['w'], t(10 / 3, 20.0))
    assert merged['n'].item() == 5 and merged['n'].dtype == torch.int64


def test_median_by_hand_for_odd_and_even_counts():
    assert coordinate_median(STATES)['w'].tolist() == [3.0, 20.0]
    # Without the last state: w[0] 1 2 3 400 -> (2+3)/2; w[1] -50 10 20 30 -> (10+20)/2.
    assert coordinate_median(STATES[:4])['w'].tolist() == [2.5, 15.0]


def test_trimming_nothing_is_the_plain_mean_and_too_much_is_refused():
    torch.testing.assert_close(trimmed_mean(STATES, trim=0)['w'], t(82.2, 10.0))
    with pytest.raises(ValueError, match='cannot trim 3 of 5 values at each end'):
        trimmed_mean(STATES, trim=3)
    with pytest.raises(ValueError, match='nothing to aggregate'):
        trimmed_mean([], trim=0)
    with pytest.raises(ValueError, match='state entries differ'):
        trimmed_mean([STATES[0], {'v': t(1.0)}], trim=0)


@pytest.mark.parametrize('k, fraction, trim', [(5, 0.2, 1), (7, 0.2, 1), (10, 0.2, 2), (3, 0.0, 0)])
def test_trim_count(k, fraction, trim):
    assert trim_count(k, fraction) == trim


def test_streaming_equals_the_batch_function():
    accumulator = StreamingTrimmedMean()
    for state in STATES:
        accumulator.add(state)
    assert len(accumulator) == 5
    assert torch.equal(accumulator.result(trim=1)['w'], trimmed_mean(STATES, trim=1)['w'])


HONEST = st.floats(-1e6, 1e6, width=32)
ANY_FINITE = st.floats(width=32, allow_nan=False, allow_infinity=False)


def _range(values):
    return min(values), max(values)


@settings(max_examples=200, deadline=None)
@given(honest=st.lists(st.lists(HONEST, min_size=3, max_size=3), min_size=2, max_size=7),
       malicious=st.lists(ANY_FINITE, min_size=3, max_size=3), position=st.integers(0, 7),
       trim=st.integers(1, 3))
def test_one_malicious_update_cannot_move_a_trimmed_mean_outside_the_honest_range(honest, malicious, position, trim):
    states = [{'w': t(*h)} for h in honest]
    states.insert(min(position, len(states)), {'w': t(*malicious)})
    trim = min(trim, (len(states) - 1) // 2)
    merged = trimmed_mean(states, trim=trim)['w'].tolist()
    for i, value in enumerate(merged):
        low, high = _range([h[i] for h in honest])
        assert low <= value <= high


@settings(max_examples=100, deadline=None)
@given(clusters=st.lists(st.tuples(st.lists(st.lists(HONEST, min_size=2, max_size=2), min_size=2, max_size=4),
                                   st.one_of(st.none(), st.lists(ANY_FINITE, min_size=2, max_size=2))),
                         min_size=3, max_size=5))
def test_at_most_one_malicious_update_per_cluster_cannot_move_the_two_tier_trimmed_mean(clusters):
    """Each coordinator takes a trimmed mean (trim 1) of its members' models and the server one of the
    cluster models (trim 1): the global model stays within the range of all honest updates, even
    when one cluster model is itself forged (the last cluster's, here)."""
    honest_values = [h for members, _ in clusters for h in members]
    cluster_models = []
    for members, bad in clusters:
        states = [{'w': t(*m)} for m in members] + ([{'w': t(*bad)}] if bad is not None else [])
        cluster_models.append(trimmed_mean(states, trim=min(1, (len(states) - 1) // 2)))
    cluster_models[-1] = {'w': t(3e38, -3e38)}  # a coordinator that forges its aggregate
    merged = trimmed_mean(cluster_models, trim=1)['w'].tolist()
    for i, value in enumerate(merged):
        low, high = _range([h[i] for h in honest_values])
        assert low <= value <= high


# -- the direction check ----------------------------------------------------------------------

ORIGIN = {'w': t(0.0, 0.0), 'bn.running_var': t(1.0)}


def delta(*w, var=1.0):
    return {'w': t(*w), 'bn.running_var': t(var)}


def test_a_flipped_update_is_dropped_by_its_leave_one_out_cosine():
    # Δ = (1,0), (0,1), (1,1), (−1,−1): the last one's cosine with the others' sum (2,2) is −1; every
    # other update's is ≥ 0. d = 2, z = 0 -> threshold 0. At most ⌊(4−1)/2⌋ = 1 update goes.
    states = [delta(1, 0), delta(0, 1), delta(1, 1), delta(-1, -1, var=1e6)]
    assert direction_check(states, ORIGIN, z=0.0).dropped == [Misdirected(3, pytest.approx(-1.0), 0.0)]


def test_the_threshold_is_z_over_root_d_and_at_most_a_minority_goes():
    # Three updates (1,0), (0,1), (1,1): leave-one-out cosines 1/√5, 1/√5, 1. With z = 1, the
    # threshold is 1/√2 > 1/√5: the first of the two lowest goes, and then no more (⌊(3−1)/2⌋ = 1).
    dropped = direction_check([delta(1, 0), delta(0, 1), delta(1, 1)], ORIGIN, z=1.0).dropped
    assert dropped == [Misdirected(0, pytest.approx(1 / math.sqrt(5)), pytest.approx(1 / math.sqrt(2)))]


def test_the_verdict_reports_every_cosine_before_anything_is_dropped():
    verdict = direction_check([delta(1, 0), delta(0, 0), delta(0, 1), delta(1, 1)], ORIGIN, z=1.0)
    assert verdict.cosines == pytest.approx([1 / math.sqrt(5), None, 1 / math.sqrt(5), 1.0])
    assert verdict.unit == pytest.approx(1 / math.sqrt(2)) and verdict.threshold == pytest.approx(1 / math.sqrt(2))
    assert [m.index for m in verdict.dropped] == [0]


def test_two_updates_alone_or_zero_updates_are_not_judged():
    alone = direction_check([delta(1, 0), delta(-1, 0)], ORIGIN, z=3.0)
    assert alone.dropped == [] and alone.threshold is None and alone.cosines == pytest.approx([-1.0, -1.0])
    # A zero update (a coordinator's own seed, under seed_only) is never judged.
    single = direction_check([delta(0, 0), delta(0, 0), delta(1, 0)], ORIGIN, z=3.0)
    assert single.dropped == [] and single.threshold is None and single.cosines[:2] == [None, None]


def test_two_members_pointing_against_each_other_beside_the_seed_are_both_dropped():
    # Beside a zero update (the seed), Δ = (1,0) and (−1,0) have cosine −1; with z = 0 the threshold
    # is −0. Which of the two points away cannot be told, so both go and the seed stands.
    pair = direction_check([delta(0, 0), delta(1, 0), delta(-1, 0)], ORIGIN, z=0.0)
    assert pair.dropped == [Misdirected(1, pytest.approx(-1.0), 0.0), Misdirected(2, pytest.approx(-1.0), 0.0)]
    assert pair.threshold == 0.0 and pair.cosines == pytest.approx([None, -1.0, -1.0])
    # (1,0) and (−1,1): cosine −1/√2 ≈ −0.707; d = 2, so −z/√2 is above it for z < 1, below for z > 1.
    against = [delta(0, 0), delta(1, 0), delta(-1, 1)]
    assert [m.index for m in direction_check(against, ORIGIN, z=0.99).dropped] == [1, 2]
    assert direction_check(against, ORIGIN, z=1.01).dropped == []


def test_the_fleets_last_step_breaks_the_tie_of_a_pair_pointing_against_each_other():
    # Beside the seed, Δ = (1,0) and (−1,0) point against each other (cosine −1 < −z/√2 for z = 0.9).
    # The last step (1,1) agrees with the first by 1/√2 and with the second by −1/√2: the second does
    # not follow it beyond chance (−0.707 < 0.9/√2 = 0.636) and the gap √2 exceeds z·√2/√d = 0.9, so
    # it goes alone, judged by its cosine with the step. A step (1,3) agrees by ±1/√10 = ±0.316: a gap
    # of 0.632, within chance, so both go.
    states, step = [delta(0, 0), delta(1, 0), delta(-1, 0)], {'w': t(1.0, 1.0)}
    verdict = direction_check(states, ORIGIN, z=0.9, last_step=step)
    assert verdict.dropped == [Misdirected(2, pytest.approx(-1 / math.sqrt(2)), pytest.approx(0.9 / math.sqrt(2)))]
    assert verdict.step_cosines == pytest.approx([None, 1 / math.sqrt(2), -1 / math.sqrt(2)])
    both = direction_check(states, ORIGIN, z=0.9, last_step={'w': t(1.0, 3.0)})
    assert both.dropped == [Misdirected(1, pytest.approx(-1.0), pytest.approx(-0.9 / math.sqrt(2))),
                            Misdirected(2, pytest.approx(-1.0), pytest.approx(-0.9 / math.sqrt(2)))]
    # The order of the two does not matter; a zero step (no move yet) breaks no tie.
    swapped = direction_check([delta(0, 0), delta(-1, 0), delta(1, 0)], ORIGIN, z=0.9, last_step=step)
    assert [m.index for m in swapped.dropped] == [1]
    still = direction_check(states, ORIGIN, z=0.9, last_step={'w': t(0.0, 0.0)})
    assert [m.index for m in still.dropped] == [1, 2] and still.step_cosines is None


def test_agreeing_less_with_the_last_step_is_no_reason_to_go_alone():
    # d = 4, z = 0.3: 1/√d = 0.5, chance along the step 0.15, a gap beyond chance 0.212. Δ = (1,0,0,0)
    # and (−1,0,1,0) point against each other (−0.707 < −0.15). The step (0.2,0,1,0) agrees with the
    # first by 0.196 and the second by 0.555: a gap of 0.359, but both follow it beyond chance, so the
    # two go together (poisoned data can agree with the fleet more than its honest partner does).
    origin = {'w': t(0.0, 0.0, 0.0, 0.0)}
    states = [origin, {'w': t(1.0, 0.0, 0.0, 0.0)}, {'w': t(-1.0, 0.0, 1.0, 0.0)}]
    verdict = direction_check(states, origin, z=0.3, last_step={'w': t(0.2, 0.0, 1.0, 0.0)})
    assert [m.index for m in verdict.dropped] == [1, 2]
    norm = math.hypot(0.2, 1.0)
    assert verdict.step_cosines == pytest.approx([None, 0.2 / norm, 0.8 / math.sqrt(2) / norm])


def test_a_member_of_a_pair_at_chance_that_does_not_follow_the_last_step_goes_alone():
    # d = 4, z = 0.5: chance along the step 0.25, a gap beyond chance 0.354. Δ = (1,0,0,0) and
    # (0,1,0,0) are at chance with each other (cosine 0: kept without a step). The step (1,0,0,0)
    # agrees with the first by 1 and the second by 0: the second goes alone.
    origin = {'w': t(0.0, 0.0, 0.0, 0.0)}
    states = [origin, {'w': t(1.0, 0.0, 0.0, 0.0)}, {'w': t(0.0, 1.0, 0.0, 0.0)}]
    assert direction_check(states, origin, z=0.5).dropped == []
    verdict = direction_check(states, origin, z=0.5, last_step={'w': t(1.0, 0.0, 0.0, 0.0)})
    assert verdict.dropped == [Misdirected(2, pytest.approx(0.0), pytest.approx(0.25))]
    assert verdict.threshold == pytest.approx(-0.25) and verdict.step_cosines == pytest.approx([None, 1.0, 0.0])
    # A step at chance with both (0,0,1,0) singles out neither: the pair stays.
    assert direction_check(states, origin, z=0.5, last_step={'w': t(0.0, 0.0, 1.0, 0.0)}).dropped == []
    # A pair agreeing beyond chance, (1,0,0,0) and (1,1,0,0) (cosine 0.707), is kept whatever the step says.
    agreeing = [origin, {'w': t(1.0, 0.0, 0.0, 0.0)}, {'w': t(1.0, 1.0, 0.0, 0.0)}]
    verdict = direction_check(agreeing, origin, z=0.5, last_step={'w': t(1.0, -1.0, 0.0, 0.0)})
    assert verdict.dropped == [] and verdict.step_cosines == pytest.approx([None, 1 / math.sqrt(2), 0.0])


def test_noise_beside_an_honest_member_goes_alone_once_the_fleet_has_moved():
    # An honest member and the last step share a direction; the other member sends noise of the same
    # norm: at chance with its partner and with the step (≈ N(0, 1/d)), so it alone goes.
    generator = torch.Generator().manual_seed(2)
    d = 20_000
    shared = torch.randn(d, generator=generator)
    reference = {'w': torch.zeros(d)}
    honest = {'w': shared + 2 * torch.randn(d, generator=generator)}
    noise = {'w': torch.randn(d, generator=generator) * float(honest['w'].norm()) / math.sqrt(d)}
    step = {'w': shared + 2 * torch.randn(d, generator=generator)}
    assert direction_check([reference, honest, noise], reference, z=3.0).dropped == []
    verdict = direction_check([reference, honest, noise], reference, z=3.0, last_step=step)
    assert [m.index for m in verdict.dropped] == [2] and abs(verdict.dropped[0].cosine) < 3 / math.sqrt(d)
    assert verdict.step_cosines[1] > 20 / math.sqrt(d)   # ≈ 1/5: shared over shared + 2·noise, twice


def test_a_lone_member_is_judged_by_the_last_step_alone():
    # One member beside the seed: nothing to compare without a step. With one, d = 2 and z = 0.9
    # (chance 0.636): Δ = (1,0) follows (1,1) by 0.707 and stays; against (−1,0) (cosine −1) it goes.
    states = [delta(0, 0), delta(1, 0)]
    alone = direction_check(states, ORIGIN, z=0.9)
    assert alone.dropped == [] and alone.threshold is None and alone.cosines == [None, None]
    kept = direction_check(states, ORIGIN, z=0.9, last_step={'w': t(1.0, 1.0)})
    assert kept.dropped == [] and kept.threshold == pytest.approx(0.9 / math.sqrt(2))
    assert kept.step_cosines == pytest.approx([None, 1 / math.sqrt(2)])
    gone = direction_check(states, ORIGIN, z=0.9, last_step={'w': t(-1.0, 0.0)})
    assert gone.dropped == [Misdirected(1, pytest.approx(-1.0), pytest.approx(0.9 / math.sqrt(2)))]
    # With nothing beside it (no seed to stand for the cluster), a single update is never judged.
    assert direction_check([delta(1, 0)], ORIGIN, z=0.9, last_step={'w': t(-1.0, 0.0)}).dropped == []


def test_the_last_step_judges_only_one_or_two_members_beside_the_seed():
    step = {'w': t(-1.0, -1.0)}
    # A pair at chance level that the step does not split (both −0.707 along it) is kept.
    kept = direction_check([delta(0, 0), delta(1, 0), delta(0, 1)], ORIGIN, z=3.0, last_step=step)
    assert kept.dropped == [] and kept.step_cosines == pytest.approx([None, -1 / math.sqrt(2), -1 / math.sqrt(2)])
    # Three or more updates: the leave-one-out rule alone, even when the step points the other way.
    states = [delta(1, 0), delta(0, 1), delta(1, 1), delta(-1, -1)]
    verdict = direction_check(states, ORIGIN, z=0.0, last_step=step)
    assert verdict.dropped == direction_check(states, ORIGIN, z=0.0).dropped == [Misdirected(3, pytest.approx(-1.0), 0.0)]
    assert verdict.step_cosines is None


def test_the_global_step_spans_the_trained_entries_in_float64():
    current = {'w': t(1.5, -2.0), 'bn.running_var': t(4.0), 'bn.num_batches_tracked': torch.tensor(3)}
    previous = {'w': t(0.5, 1.0), 'bn.running_var': t(1.0), 'bn.num_batches_tracked': torch.tensor(1)}
    step = global_step(current, previous)
    assert list(step) == ['w'] and step['w'].dtype == torch.float64 and step['w'].tolist() == [1.0, -3.0]
    with pytest.raises(ValueError, match='state entries differ'):
        global_step(current, {'w': t(0.0, 0.0)})


def test_recent_globals_give_the_step_into_a_round_only_from_the_round_before():
    recent = RecentGlobals()
    recent.keep(3, {'w': t(1.0, 1.0)})
    assert recent.step_into(3) is None                    # nothing from round 2
    recent.keep(4, {'w': t(2.0, 0.0)})
    assert recent.step_into(4)['w'].tolist() == [1.0, -1.0]
    recent.keep(4, {'w': t(3.0, 0.0)})                    # round 4 played again: round 3 stays
    assert recent.step_into(4)['w'].tolist() == [2.0, -1.0]
    recent.keep(6, {'w': t(0.0, 0.0)})                    # round 5 missed: no step, older rounds gone
    assert recent.step_into(6) is None and recent.step_into(4) is None


def test_two_members_at_chance_level_beside_the_seed_are_kept():
    # Orthogonal updates, (1,0) and (0,1): cosine 0, below z/√d but not against each other. Late in
    # training two honest members look so; a pair is refused only for pointing against each other.
    assert direction_check([delta(0, 0), delta(1, 0), delta(0, 1)], ORIGIN, z=3.0).dropped == []
    generator = torch.Generator().manual_seed(1)
    d = 20_000
    reference = {'w': torch.zeros(d)}
    first, second = ({'w': torch.randn(d, generator=generator)} for _ in range(2))
    verdict = direction_check([reference, first, second], reference, z=3.0)
    assert abs(verdict.cosines[1]) < 3 * verdict.unit   # two independent directions: cosine within chance
    assert verdict.threshold == pytest.approx(-3 / math.sqrt(d)) and verdict.dropped == []


def test_random_noise_is_dropped_and_correlated_updates_are_kept():
    generator = torch.Generator().manual_seed(0)
    d = 20_000
    shared = torch.randn(d, generator=generator)
    reference = {'w': torch.zeros(d)}
    honest = [{'w': shared + 2 * torch.randn(d, generator=generator)} for _ in range(4)]
    noise = {'w': torch.randn(d, generator=generator) * float(honest[0]['w'].norm()) / math.sqrt(d)}
    dropped = direction_check([*honest[:2], noise, *honest[2:]], reference, z=3.0).dropped
    # Honest cosines with the others' sum ≈ 0.38; the noise's ≈ N(0, 1/d), far under 3/√d ≈ 0.021.
    assert [m.index for m in dropped] == [2] and abs(dropped[0].cosine) < 3 / math.sqrt(d)
    assert direction_check(honest, reference, z=3.0).dropped == []


def test_a_negative_z_is_refused():
    with pytest.raises(ValueError, match='direction z must be non-negative, got -1'):
        direction_check([delta(1, 0)] * 3, ORIGIN, z=-1.0)
