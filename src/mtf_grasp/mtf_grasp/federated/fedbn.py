"""FedBN: each robot keeps its own BatchNorm layers (running statistics and affine parameters).

A robot that starts training from a received model (the global model, or its coordinator's seed)
puts its own BatchNorm entries back in first, and stores them again after training. Models still
travel whole, so the traffic stays 2·n·|θ|: the BatchNorm entries that the server aggregates
are used only to evaluate the global model (the sample-weighted mix of the robots' own layers),
never loaded by a robot that has layers of its own. A robot's first round starts from the
received layers, as it has none yet.
"""
from __future__ import annotations

from typing import Mapping, MutableMapping

import torch

State = Mapping[str, torch.Tensor]


def batchnorm_entries(state: State) -> list[str]:
    """Names of a state_dict's BatchNorm entries: every entry of a module with running statistics."""
    modules = {name[:-len('.running_mean')] for name in state if name.endswith('.running_mean')}
    return [name for name in state if name.rpartition('.')[0] in modules]


class LocalNorms:
    """The BatchNorm layers each robot keeps to itself, by robot id."""

    def __init__(self):
        self._layers: MutableMapping[str, dict[str, torch.Tensor]] = {}

    def apply(self, robot_id: str, state: State) -> dict[str, torch.Tensor]:
        """`state` with `robot_id`'s own BatchNorm entries in place of the received ones."""
        merged = dict(state)
        merged.update(self._layers.get(robot_id, {}))
        return merged

    def keep(self, robot_id: str, state: State) -> None:
        """Store `robot_id`'s BatchNorm entries from the model it has just trained."""
        self._layers[robot_id] = {name: state[name].detach().clone() for name in batchnorm_entries(state)}
