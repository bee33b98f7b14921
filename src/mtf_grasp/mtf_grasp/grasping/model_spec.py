"""What a grasp network is: architecture, input channels, width, input size, normalisation."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Literal

ARCHS = ('grconvnet', 'ggcnn2')
CHANNELS = {'rgbd': 4, 'depth': 1, 'rgb': 3}


@dataclass(frozen=True)
class ModelSpec:
    arch: Literal['grconvnet', 'ggcnn2'] = 'grconvnet'
    channels: Literal['rgbd', 'depth', 'rgb'] = 'rgbd'
    width: int = 32                 # GR-ConvNet's first-layer channels (32 full, 16 lite); unused by GG-CNN2
    input_size: int = 224
    norm: Literal['batch', 'group'] = 'batch'
    jaw_ratio: float = 0.5          # predicted jaw size = jaw_ratio × predicted opening ...
    jaw_px: float = 0.0             # ... or, when > 0, this fixed size in input pixels (a gripper's fingers)
    depth_ref: Literal['mean', 'median', 'plane'] = 'mean'   # depth input = (depth - this reference) in dm

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f'arch {self.arch!r} is not one of {", ".join(ARCHS)}')
        if self.channels not in CHANNELS:
            raise ValueError(f'channels {self.channels!r} is not one of {", ".join(CHANNELS)}')
        if self.norm not in ('batch', 'group'):
            raise ValueError(f"norm {self.norm!r} is not 'batch' or 'group'")
        if self.arch == 'grconvnet' and (self.width < 8 or self.width % 8):
            raise ValueError(f'width {self.width} must be a multiple of 8 (32 full, 16 lite)')
        if self.input_size < 16 or self.input_size % 4:
            raise ValueError(f'input_size {self.input_size} must be a multiple of 4, at least 16')
        if self.depth_ref not in ('mean', 'median', 'plane'):
            raise ValueError(f"depth_ref {self.depth_ref!r} is not 'mean', 'median' or 'plane'")
        if not 0 < self.jaw_ratio <= 4:
            raise ValueError(f'jaw_ratio {self.jaw_ratio} must be in (0, 4]')
        if not 0 <= self.jaw_px <= self.input_size:
            raise ValueError(f'jaw_px {self.jaw_px} must be in [0, input_size]')

    @property
    def in_channels(self) -> int:
        return CHANNELS[self.channels]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | dict) -> 'ModelSpec':
        data = json.loads(text) if isinstance(text, str) else dict(text)
        return cls(**data)
