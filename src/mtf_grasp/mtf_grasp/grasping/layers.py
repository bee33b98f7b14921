"""Building blocks shared by the grasp networks."""
from __future__ import annotations

import torch
from torch import nn


def norm_layer(kind: str, channels: int) -> nn.Module:
    """BatchNorm, or GroupNorm (no running statistics: safer to average across non-IID robots)."""
    if kind == 'group':
        return nn.GroupNorm(num_groups=min(8, channels), num_channels=channels)
    return nn.BatchNorm2d(channels)


def conv_norm_relu(cin: int, cout: int, kernel: int, *, stride: int = 1, norm: str) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, padding=(kernel - 1) // 2 if stride == 1
                                   else kernel // 2 - 1),
                         norm_layer(norm, cout), nn.ReLU(inplace=True))


class GraspNet(nn.Module):
    """The output contract of every network: B×C×S×S -> B×4×S×S maps (quality in [0, 1], cos 2θ,
    sin 2θ, width); subclasses define `raw`, whose quality channel is a logit (used by the loss)."""

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.raw(x)
        return torch.cat([torch.sigmoid(out[:, :1]), out[:, 1:]], dim=1)
