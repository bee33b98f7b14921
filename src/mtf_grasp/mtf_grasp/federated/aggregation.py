"""Pure aggregation over (state, weight) pairs: FedAvg and FedNova, in a streaming form.

A state is a PyTorch state_dict (name -> tensor). The accumulators add one incoming model at a
time into a float64 running sum, so a server holds O(|θ|) memory however many models arrive;
the batch functions are the same accumulators fed from a list.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import torch

State = Mapping[str, torch.Tensor]

# BatchNorm running statistics are not moved by gradients, so FedNova's step normalisation does
# not apply to them: they are always averaged by sample count.
_STATISTIC_SUFFIXES = ('running_mean', 'running_var', 'num_batches_tracked')


def is_statistic(name: str) -> bool:
    """True for BatchNorm running-statistic entries of a state_dict."""
    return name.rsplit('.', 1)[-1] in _STATISTIC_SUFFIXES


class StreamingAverage:
    """Weighted mean of states, one state at a time: `add(state, weight)`, then `result()`."""

    def __init__(self):
        self._sum: dict[str, torch.Tensor] | None = None
        self._dtypes: dict[str, torch.dtype] = {}
        self._weight = 0.0

    @property
    def total_weight(self) -> float:
        return self._weight

    def add(self, state: State, weight: float) -> None:
        if not weight > 0:
            raise ValueError(f'aggregation weight must be positive, got {weight}')
        if self._sum is None:
            self._dtypes = {k: v.dtype for k, v in state.items()}
            self._sum = {k: v.detach().to(torch.float64) * weight for k, v in state.items()}
        else:
            if state.keys() != self._sum.keys():
                diff = sorted(set(state.keys()) ^ set(self._sum.keys()))
                raise ValueError(f'state entries differ from earlier ones: {diff[:3]}')
            for name, value in state.items():
                self._sum[name].add_(value.detach().to(torch.float64), alpha=weight)
        self._weight += weight

    def result(self) -> dict[str, torch.Tensor]:
        if self._sum is None:
            raise ValueError('nothing to aggregate')
        return {k: _cast(v / self._weight, self._dtypes[k]) for k, v in self._sum.items()}


def _cast(value: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return value.to(dtype) if dtype.is_floating_point else value.round().to(dtype)


def weighted_average(pairs: Iterable[tuple[State, float]]) -> dict[str, torch.Tensor]:
    """FedAvg: Σ w_k·θ_k / Σ w_k over (state, weight) pairs."""
    accumulator = StreamingAverage()
    for state, weight in pairs:
        accumulator.add(state, weight)
    return accumulator.result()


def effective_steps(steps: int, momentum: float = 0.0) -> float:
    """FedNova's a = (τ − ρ(1−ρ^τ)/(1−ρ)) / (1−ρ) for τ SGD steps with momentum ρ (a = τ at ρ=0)."""
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f'momentum must lie in [0, 1), got {momentum}')
    if momentum == 0.0:
        return float(steps)
    rho = momentum
    return (steps - rho * (1.0 - rho ** steps) / (1.0 - rho)) / (1.0 - rho)


class StreamingNova:
    """FedNova, one model at a time: θ = θ_ref − τ_eff·Σ p_k (θ_ref − θ_k)/a_k with p_k = w_k/Σw and
    τ_eff = Σ p_k a_k. `steps_result()` is τ_eff, the effective step count of the aggregate."""

    def __init__(self, reference: State):
        self._reference = reference
        self._directions = StreamingAverage()
        self._weighted_steps = 0.0

    def add(self, state: State, weight: float, *, steps: float) -> None:
        if not steps > 0:
            raise ValueError(f'FedNova needs a positive step count, got {steps}')
        if state.keys() != self._reference.keys():
            diff = sorted(set(state.keys()) ^ set(self._reference.keys()))
            raise ValueError(f'state entries differ from the reference: {diff[:3]}')
        direction = {}
        for name, value in state.items():
            if is_statistic(name) or not value.dtype.is_floating_point:
                direction[name] = value
            else:
                delta = self._reference[name].to(torch.float64) - value.to(torch.float64)
                direction[name] = delta / steps
        self._directions.add(direction, weight)
        self._weighted_steps += weight * steps

    def steps_result(self) -> float:
        return self._weighted_steps / self._directions.total_weight

    def result(self) -> dict[str, torch.Tensor]:
        tau = self.steps_result()
        directions = self._directions.result()  # deltas stay float64
        merged = {}
        for name, ref in self._reference.items():
            if is_statistic(name) or not ref.dtype.is_floating_point:
                merged[name] = _cast(directions[name], ref.dtype)
            else:
                merged[name] = _cast(ref.to(torch.float64) - tau * directions[name], ref.dtype)
        return merged


def nova_average(reference: State, triples: Iterable[tuple[State, float, float]]) -> dict[str, torch.Tensor]:
    """FedNova over (state, weight, effective steps) triples, relative to `reference`."""
    accumulator = StreamingNova(reference)
    for state, weight, steps in triples:
        accumulator.add(state, weight, steps=steps)
    return accumulator.result()
