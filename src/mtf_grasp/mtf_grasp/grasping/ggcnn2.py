"""GG-CNN2 (Morrison et al. 2019): a small fully-convolutional net with dilated convolutions,
made for depth-only, closed-loop grasping. Written for this project after the paper's description."""
from __future__ import annotations

from torch import nn

from mtf_grasp.grasping.layers import GraspNet, conv_norm_relu


class GGCNN2(GraspNet):
    """Input B×C×S×S (S divisible by 4) -> B×4×S×S."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        norm = spec.norm
        self.features = nn.Sequential(
            conv_norm_relu(spec.in_channels, 16, 11, norm=norm),
            conv_norm_relu(16, 16, 5, norm=norm),
            nn.MaxPool2d(2),
            conv_norm_relu(16, 16, 5, norm=norm),
            conv_norm_relu(16, 16, 5, norm=norm),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, padding=4, dilation=2), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 5, padding=8, dilation=4), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False),
            conv_norm_relu(32, 16, 3, norm=norm),
            nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False),
            conv_norm_relu(16, 16, 3, norm=norm))
        self.heads = nn.Conv2d(16, 4, kernel_size=1)

    def raw(self, x):
        return self.heads(self.features(x))
