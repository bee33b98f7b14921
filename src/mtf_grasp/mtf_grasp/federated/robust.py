"""Defences for aggregation: bounding each update's norm, and coordinate-wise trimmed mean and median.

Pure functions over states (name -> tensor), in the shape of aggregation.py. An update is
Δ_k = θ_k − θ_ref, taken against the round's reference model θ_ref: the global model the round
started from (at a coordinator: the model its cluster started from). Only float entries that
gradients move count; BatchNorm running statistics and integer entries are neither measured nor
scaled (they are averaged as aggregation.py does).

- Norm bounding, streaming (one update at a time, O(|θ|)): ‖Δ_k‖₂ is compared with the bound
  B = min(max_norm, max_relative·‖θ_ref‖) (either may be left out). `clip` sends on
  θ_ref + Δ_k·min(1, B/‖Δ_k‖); `reject` refuses an update over B. An update with a NaN or Inf
  coordinate is refused either way. Every verdict carries a `BoundReason` code.
- Trimmed mean and median, per coordinate, unweighted (Yin et al. 2018): of the k values of a
  coordinate the `trim` smallest and `trim` largest are dropped and the rest averaged; the median is
  the trimmed mean with trim = ⌊(k−1)/2⌋ (the mean of the two middle values for even k). With
  trim ≥ m, m malicious updates cannot move any coordinate outside the range of the honest ones.
  These need all k values of a coordinate at once: the accumulator holds every added state, so
  memory is O(k·|θ|) from the first model on (a coordinator with m members: m+1 models; the
  server: one per cluster), plus one entry's stacked copy, O(k·max entry), while it sorts.
- Direction check (`direction_check`): an update must point where the others of its aggregation point.
  Each non-zero update's cosine with the sum of the other non-zero updates (leave-one-out) is
  compared with z/√d, d the number of moved coordinates: a direction independent of the others has
  a cosine of mean 0 and standard deviation about 1/√d, so an update below the threshold is
  indistinguishable from noise (or points against the others: a sign flip). The worst update is
  dropped and the cosines recomputed, at most ⌊(k−1)/2⌋ times, and only while 3 or more remain. One
  or two updates beside a zero one (the seed of a cluster of one or two members) cannot be judged
  against each other alone: a pair pointing against each other beyond chance (cosine below −z/√d)
  is dropped whole and the seed stands, a pair at chance is kept, as two honest updates late in
  training are. When the aggregator knows the fleet's last step (the global model's move over the
  previous round, `last_step`), of a pair not agreeing beyond chance a member not following that
  step beyond chance (cosine below z/√d) is dropped alone when its partner's cosine with the step
  is higher by more than z·√2/√d (the spread of the difference of two random directions'
  cosines), and a lone member not following it is dropped. Computed from the Gram matrix of the
  updates (and the step), one entry at a time: the k states are held (O(k·|θ|)), the extra memory
  is O(k·max entry + k²).
- FedNova under a robust rule (`robust_nova`): the rule replaces the weighted mean of the normalised
  directions d_k = (θ_ref − θ_k)/a_k and of the step counts a_k: θ = θ_ref − trim(a)·trim(d).
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import torch

from mtf_grasp.federated.aggregation import is_statistic

State = Mapping[str, torch.Tensor]


class BoundReason(enum.StrEnum):
    WITHIN = 'within'              # ‖Δ‖ ≤ B: sent on unchanged
    CLIPPED = 'clipped'            # scaled down to ‖Δ‖ = B
    NORM_EXCEEDED = 'norm_exceeded'  # refused: ‖Δ‖ > B under `reject`
    NON_FINITE = 'non_finite'      # refused: a NaN or Inf coordinate


class BoundAction(enum.StrEnum):
    CLIP = 'clip'
    REJECT = 'reject'


AGGREGATORS = ('mean', 'trimmed_mean', 'median')


@dataclass(frozen=True)
class NormBound:
    """B = the smaller of `max_norm` and `max_relative`·‖θ_ref‖, with what to do over it."""

    max_norm: float | None = None
    max_relative: float | None = None
    action: BoundAction = BoundAction.CLIP

    def __post_init__(self):
        if self.max_norm is None and self.max_relative is None:
            raise ValueError('a norm bound needs max_norm or max_relative')
        for name in ('max_norm', 'max_relative'):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f'{name} must be positive, got {value}')
        object.__setattr__(self, 'action', BoundAction(self.action))

    def limit(self, reference: State) -> float:
        """B for a round whose reference model is `reference`."""
        limits = [self.max_norm] if self.max_norm is not None else []
        if self.max_relative is not None:
            limits.append(self.max_relative * state_norm(reference))
        return min(limits)


@dataclass(frozen=True)
class BoundedUpdate:
    """The verdict on one update: `state` is what to aggregate (None when refused)."""

    state: dict[str, torch.Tensor] | None
    norm: float
    bound: float
    reason: BoundReason

    @property
    def accepted(self) -> bool:
        return self.state is not None


def is_moved(name: str, value: torch.Tensor) -> bool:
    return value.dtype.is_floating_point and not is_statistic(name)


def state_norm(state: State) -> float:
    """‖θ‖₂ over the float entries gradients move."""
    return math.sqrt(sum(float(v.detach().to(torch.float64).square().sum())
                         for k, v in state.items() if is_moved(k, v)))


def update_norm(state: State, reference: State) -> float:
    """‖θ − θ_ref‖₂ over the float entries gradients move (inf or nan when θ has them)."""
    _same_entries(state, reference)
    return math.sqrt(sum(float((v.detach().to(torch.float64) - reference[k].to(torch.float64)).square().sum())
                         for k, v in state.items() if is_moved(k, v)))


def bound_update(state: State, reference: State, *, bound: NormBound, limit: float | None = None) -> BoundedUpdate:
    """Check one update against `bound` (its `limit` for `reference`, unless given precomputed)."""
    limit = bound.limit(reference) if limit is None else limit
    norm = update_norm(state, reference)
    if not math.isfinite(norm):
        return BoundedUpdate(None, norm, limit, BoundReason.NON_FINITE)
    if norm <= limit:
        return BoundedUpdate(dict(state), norm, limit, BoundReason.WITHIN)
    if bound.action is BoundAction.REJECT:
        return BoundedUpdate(None, norm, limit, BoundReason.NORM_EXCEEDED)
    scale = limit / norm
    clipped = {k: (_cast(reference[k].to(torch.float64) + (v.to(torch.float64) - reference[k].to(torch.float64)) * scale,
                         v.dtype) if is_moved(k, v) else v)
               for k, v in state.items()}
    return BoundedUpdate(clipped, norm, limit, BoundReason.CLIPPED)


def trim_count(k: int, fraction: float) -> int:
    """⌊fraction·k⌋ values cut at each end of k; at least one value must remain."""
    if not 0 <= fraction < 0.5:
        raise ValueError(f'trim fraction must be in [0, 0.5), got {fraction}')
    return math.floor(fraction * k)


class StreamingTrimmedMean:
    """Coordinate-wise trimmed mean of states added one at a time: `add(state)`, then
    `result(trim=t)` or `median()`. Holds every state: O(k·|θ|)."""

    def __init__(self):
        self._states: list[State] = []

    def __len__(self) -> int:
        return len(self._states)

    def add(self, state: State) -> None:
        if self._states:
            _same_entries(state, self._states[0])
        self._states.append({k: v.detach() for k, v in state.items()})

    def result(self, *, trim: int) -> dict[str, torch.Tensor]:
        k = len(self._states)
        if k == 0:
            raise ValueError('nothing to aggregate')
        if trim < 0 or 2 * trim >= k:
            raise ValueError(f'cannot trim {trim} of {k} values at each end')
        merged = {}
        for name, first in self._states[0].items():
            # One entry at a time keeps the extra memory at O(k·|entry|).
            stacked = torch.stack([s[name].to(torch.float64) for s in self._states])
            kept = stacked.sort(dim=0).values[trim:k - trim]
            merged[name] = _cast(kept.mean(dim=0), first.dtype)
        return merged

    def median(self) -> dict[str, torch.Tensor]:
        return self.result(trim=(len(self._states) - 1) // 2)


def trimmed_mean(states: Iterable[State], *, trim: int) -> dict[str, torch.Tensor]:
    """Per coordinate: drop the `trim` smallest and largest of the k values, average the rest."""
    return _accumulated(states).result(trim=trim)


def coordinate_median(states: Iterable[State]) -> dict[str, torch.Tensor]:
    """Per coordinate: the median of the k values (mean of the middle two for even k)."""
    return _accumulated(states).median()


def robust_trim(k: int, *, aggregator: str, fraction: float) -> int:
    """Values cut at each end of k under `aggregator` ('trimmed_mean': ⌊fraction·k⌋; 'median')."""
    if aggregator == 'median':
        return (k - 1) // 2
    if aggregator == 'trimmed_mean':
        return trim_count(k, fraction)
    raise ValueError(f'unknown robust aggregator {aggregator!r} (known: trimmed_mean, median)')


@dataclass(frozen=True)
class Misdirected:
    """An update the direction check drops: its index among the updates, the cosine it was judged by
    and the threshold it missed: its leave-one-out cosine and z/√d in a tier of three or more; a
    pair's cosine and −z/√d when a pair goes whole; its cosine with the fleet's last step and z/√d
    when it goes alone beside the seed."""

    index: int
    cosine: float
    threshold: float


@dataclass(frozen=True)
class DirectionVerdict:
    """One aggregation's direction check: each update's leave-one-out cosine before anything was
    dropped (None for a zero update, never judged, and for a lone one, with nothing to compare), 1/√d
    (the spread of a random direction's cosine), the threshold applied (z/√d; −z/√d for a pair; None
    when there was nothing to judge), the updates dropped, in the order they were dropped, and each
    update's cosine with the fleet's last step where that was measured (a pair or a lone member)."""

    cosines: list[float | None]
    unit: float
    threshold: float | None
    dropped: list[Misdirected]
    step_cosines: list[float | None] | None = None


def direction_check(states: Sequence[State], reference: State, *, z: float,
                    last_step: State | None = None) -> DirectionVerdict:
    """The direction check on the updates θ_k − θ_ref.

    Three or more non-zero updates: the worst by leave-one-out cosine is dropped while below z/√d,
    never more than a minority. One or two beside zero ones (a cluster of one or two members whose
    coordinator's own model is the seed they started from, under seed_only) cannot say by themselves
    which of them points away; the seed stands for the cluster if they go. A pair pointing against
    each other beyond chance (cosine below −z/√d: a sign flip) goes whole, a pair at chance level is
    kept, unless `last_step` (the global model's move over the previous round, `global_step`) singles
    one out: of a pair not agreeing beyond chance, a member that does not follow the last step beyond
    chance (cosine below z/√d) while its partner's cosine with it is higher by more than z·√2/√d goes
    alone, and a lone member not following it beyond chance goes. On the cpu preset's attack table
    (docs/security-measurements.md) honest members of pairs agreed with the last step by 0.4 to 48.0 times 1/√d on
    clean runs (the one under 3 in a pair agreeing beyond chance), lone members by 9.7 to 29.0, and
    honest pairs with each other by 3.1 to 53.2; sign-flipped updates by −8.0 to −36.4, noise by −2.3
    to +1.8. Late in training an honest member can stop following the step while its pair sits at
    chance, and is then refused alone (3 refusals in the table's 40 runs, one member of seed 8 in
    rounds 8 and 9). Agreeing less is no reason on its own: poisoned data can agree with the step
    more than its honest partner (`rotated_labels`: +25.6 to +48.7 against +11.6 to +24.5, in the
    rounds its pair pointed against itself). Without the step, two beside zero ones are judged by
    the pair rule alone and a lone member not at all; two with nothing beside them are never
    judged."""
    if not z >= 0:
        raise ValueError(f'direction z must be non-negative, got {z}')
    gram, active, unit = _judged(states, reference, last_step=last_step)
    cosines = [_loo_cosine(gram, i, active) if i in active and len(active) > 1 else None
               for i in range(len(states))]
    if len(active) < 3:
        beside_seed = 0 < len(active) < len(states)
        return _beside_seed(gram, active, cosines, unit, z=z) if beside_seed else \
            DirectionVerdict(cosines, unit, None, [])
    threshold, dropped = z * unit, []
    while len(active) >= 3 and len(dropped) < (len(active) + len(dropped) - 1) // 2:
        index, cosine = min(((i, _loo_cosine(gram, i, active)) for i in active), key=lambda ic: ic[1])
        if cosine >= threshold:
            break
        dropped.append(Misdirected(index, cosine, threshold))
        active.remove(index)
    return DirectionVerdict(cosines, unit, threshold, dropped)


def _beside_seed(gram: torch.Tensor, active: list[int], cosines: list[float | None], unit: float, *,
                 z: float) -> DirectionVerdict:
    """One or two non-zero updates beside zero ones: the pair rule and the last step's (the step is the
    Gram matrix's last row when it has one more row than there are updates)."""
    step = len(cosines)
    along = ([_cosine(gram, i, step) if i in active else None for i in range(step)]
             if gram.shape[0] > step and gram[step, step] > 0 else None)
    follows = z * unit   # beyond chance along the last step
    if len(active) == 1:
        (only,) = active
        if along is None:
            return DirectionVerdict(cosines, unit, None, [])
        dropped = [Misdirected(only, along[only], follows)] if along[only] < follows else []
        return DirectionVerdict(cosines, unit, follows, dropped, along)
    threshold, cosine = -z * unit, cosines[active[0]]
    if along is not None and cosine < follows:
        low, high = sorted(active, key=lambda i: along[i])
        if along[low] < follows and along[high] - along[low] > z * math.sqrt(2) * unit:
            return DirectionVerdict(cosines, unit, threshold, [Misdirected(low, along[low], follows)], along)
    dropped = [Misdirected(i, cosine, threshold) for i in active] if cosine < threshold else []
    return DirectionVerdict(cosines, unit, threshold, dropped, along)


def global_step(current: State, previous: State) -> dict[str, torch.Tensor]:
    """θ_g(r) − θ_g(r−1) on the entries gradients move: the fleet's last step, for the direction check."""
    _same_entries(current, previous)
    return {k: v.detach().to(torch.float64) - previous[k].detach().to(torch.float64)
            for k, v in current.items() if is_moved(k, v)}


def step_alignment(state: State, reference: State, step: State) -> float:
    """cos(θ − θ_ref, `step`)·√d over the moved entries (d of them): how many standard deviations of
    a random direction's cosine the update follows the step by; 0 for a zero update or step."""
    _same_entries(state, reference)
    gram, dims = _update_gram([state], reference, last_step=step)
    return _cosine(gram, 0, 1) * math.sqrt(dims) if gram[0, 0] > 0 and gram[1, 1] > 0 else 0.0


class RecentGlobals:
    """The global models of the last two rounds one node received, as it decoded them: what the
    fleet's last step is taken from. Holds two models."""

    def __init__(self):
        self._models: dict[int, State] = {}

    def keep(self, round_index: int, state: State) -> None:
        """`state` is the global model of `round_index`; the previous round's is kept beside it, older
        ones dropped (a round played again replaces its own)."""
        self._models = {r: s for r, s in self._models.items() if r == round_index - 1}
        self._models[round_index] = state

    def step_into(self, round_index: int) -> dict[str, torch.Tensor] | None:
        """`global_step` into `round_index`; None when either round's model was not received."""
        if round_index in self._models and round_index - 1 in self._models:
            return global_step(self._models[round_index], self._models[round_index - 1])
        return None


def _judged(states: Sequence[State], reference: State, *,
            last_step: State | None = None) -> tuple[torch.Tensor, list[int], float]:
    """The updates' Gram matrix (with `last_step` as one more row and column, after the updates),
    the indices of the non-zero updates (the only ones judged) and 1/√d (0 when no coordinate is
    trained)."""
    gram, dims = _update_gram(states, reference, last_step=last_step)
    active = [i for i in range(len(states)) if gram[i, i] > 0]
    return gram, active, 1 / math.sqrt(dims) if dims else 0.0


def _update_gram(states: Sequence[State], reference: State, *,
                 last_step: State | None = None) -> tuple[torch.Tensor, int]:
    """G[i, j] = Δ_i·Δ_j over the moved entries (float64; `last_step` as one more Δ when given), and
    the number d of moved coordinates."""
    k = len(states) + (last_step is not None)
    gram = torch.zeros(k, k, dtype=torch.float64)
    dims = 0
    for name, ref in reference.items():
        if not is_moved(name, ref):
            continue
        ref64 = ref.detach().to(torch.float64).flatten()
        rows = [s[name].detach().to(torch.float64).flatten() - ref64 for s in states]
        if last_step is not None:
            rows.append(last_step[name].detach().to(torch.float64).flatten())
        deltas = torch.stack(rows)
        gram += deltas @ deltas.T
        dims += ref64.numel()
    return gram, dims


def _cosine(gram: torch.Tensor, i: int, j: int) -> float:
    return float(gram[i, j]) / math.sqrt(float(gram[i, i]) * float(gram[j, j]))


def _loo_cosine(gram: torch.Tensor, i: int, active: Sequence[int]) -> float:
    """cos(Δ_i, Σ_{j≠i} Δ_j) over the `active` updates, from their Gram matrix."""
    others = [j for j in active if j != i]
    dot = float(gram[i, others].sum())
    rest = float(gram[others][:, others].sum())
    if rest <= 0:
        return 0.0
    return dot / math.sqrt(float(gram[i, i]) * rest)


def nova_direction(state: State, reference: State, *, steps: float) -> dict[str, torch.Tensor]:
    """FedNova's normalised direction (θ_ref − θ)/a on the entries gradients move; statistics as they are."""
    return {k: (reference[k].to(torch.float64) - v.to(torch.float64)) / steps if is_moved(k, v) else v
            for k, v in state.items()}


def robust_nova(reference: State, updates: Sequence[tuple[State, float]], *,
                trim: int) -> tuple[dict[str, torch.Tensor], float]:
    """(θ_ref − τ·trim(d), τ) with τ = trim(a): FedNova over (state, steps a) pairs, unweighted."""
    directions = trimmed_mean((nova_direction(s, reference, steps=a) for s, a in updates), trim=trim)
    steps = sorted(a for _, a in updates)
    tau = math.fsum(steps[trim:len(steps) - trim]) / (len(steps) - 2 * trim)
    merged = {k: _cast(ref.to(torch.float64) - tau * directions[k], ref.dtype) if is_moved(k, ref)
              else _cast(directions[k].to(torch.float64), ref.dtype) for k, ref in reference.items()}
    return merged, tau


def _accumulated(states: Iterable[State]) -> StreamingTrimmedMean:
    accumulator = StreamingTrimmedMean()
    for state in states:
        accumulator.add(state)
    return accumulator


def _same_entries(state: State, other: State) -> None:
    if state.keys() != other.keys():
        diff = sorted(set(state.keys()) ^ set(other.keys()))
        raise ValueError(f'state entries differ: {diff[:3]}')


def _cast(value: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return value.to(dtype) if dtype.is_floating_point else value.round().to(dtype)
