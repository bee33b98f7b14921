"""GR-ConvNet (Kumra et al. 2020): a conv encoder, residual bottleneck and transposed-conv decoder
that keeps the input resolution. Written for this project after the paper's description."""
from __future__ import annotations

import torch
from torch import nn

from mtf_grasp.grasping.layers import GraspNet, conv_norm_relu, norm_layer


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, *, norm: str):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), norm_layer(norm, channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1), norm_layer(norm, channels))

    def forward(self, x):
        return torch.relu(x + self.body(x))


def _up(cin: int, cout: int, norm: str) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1),
                         norm_layer(norm, cout), nn.ReLU(inplace=True))


class GRConvNet(GraspNet):
    """Input B×C×S×S (S divisible by 4) -> B×4×S×S."""

    def __init__(self, spec, *, residual_blocks: int = 5):
        super().__init__()
        self.spec = spec
        w, norm = spec.width, spec.norm
        self.encoder = nn.Sequential(
            conv_norm_relu(spec.in_channels, w, 9, norm=norm),
            conv_norm_relu(w, 2 * w, 4, stride=2, norm=norm),
            conv_norm_relu(2 * w, 4 * w, 4, stride=2, norm=norm))
        self.bottleneck = nn.Sequential(*[ResidualBlock(4 * w, norm=norm) for _ in range(residual_blocks)])
        self.decoder = nn.Sequential(_up(4 * w, 2 * w, norm), _up(2 * w, w, norm),
                                     nn.Conv2d(w, w, 9, padding=4), nn.ReLU(inplace=True))
        self.heads = nn.Conv2d(w, 4, kernel_size=1)

    def raw(self, x):
        return self.heads(self.decoder(self.bottleneck(self.encoder(x))))
