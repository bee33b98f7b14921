"""Evaluation protocols: which square of the camera image the network sees, and which samples are test.

Every protocol scores with the same rectangle metric (top-1, angle within 30°, IoU > 0.25) and
resizes its square crop to the model's input size; they differ only in the crop and the split.
docs/grasp-learning.md ("Evaluation protocols") says what each does and where the published ones
leak information.

- `deploy`: what `grasp_inference` does — one fixed crop from its parameters (x0, y0, side; side 0:
  the centred largest square), the same for every frame; with a workspace, no grasp outside it.
- `cornell`: GR-ConvNet's and GG-CNN's Cornell crop — a `side`-pixel square (224 in GR-ConvNet, 300
  in GG-CNN) centred on the mean of the ground-truth rectangle centres (in whole pixels), shifted to
  stay inside the image. The crop position is taken from the answer.
- `jacquard`: the anchors' Jacquard input — the whole (square) image resized; an image that is not
  square gives its centred largest square.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mtf_grasp.grasping.rect import GraspRect

PROTOCOLS = ('deploy', 'cornell', 'jacquard')
CORNELL_CROP = 224      # GR-ConvNet's Cornell crop (GG-CNN: 300)
SPLITS = ('image-wise', 'object-wise')
SPLIT_SEED = 123        # the shuffle seed of GR-ConvNet's image-wise split


@dataclass(frozen=True)
class CropRule:
    """The crop of one protocol. `side` is the cornell crop side, or the deploy crop side (0: the
    centred largest square) with its corner (`x0`, `y0`)."""
    protocol: str = 'deploy'
    side: int = 0
    x0: int = 0
    y0: int = 0

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValueError(f'protocol {self.protocol!r} is not one of {", ".join(PROTOCOLS)}')
        if self.side < 0 or self.x0 < 0 or self.y0 < 0:
            raise ValueError(f'crop side {self.side}, x0 {self.x0}, y0 {self.y0}: must be >= 0')
        if self.protocol == 'cornell' and self.side == 0:
            raise ValueError('the cornell protocol needs a crop side > 0 (GR-ConvNet: 224, GG-CNN: 300)')

    @classmethod
    def for_protocol(cls, protocol: str, *, side: int | None = None, x0: int = 0, y0: int = 0) -> 'CropRule':
        """The rule with the protocol's own default side (cornell 224, deploy 0 = centred largest)."""
        if side is None:
            side = CORNELL_CROP if protocol == 'cornell' else 0
        return cls(protocol=protocol, side=side, x0=x0, y0=y0)

    @property
    def fixed_crop(self) -> tuple[int, int, int] | None:
        """The deploy crop as the node's `crop` setting: (x0, y0, side), or None for the centred square."""
        return (self.x0, self.y0, self.side) if self.protocol == 'deploy' and self.side > 0 else None

    def crop(self, height: int, width: int, rects: Sequence[GraspRect]) -> tuple[int, int, int] | None:
        """(x0, y0, side) in source pixels, or None for the centred largest square."""
        if self.protocol == 'cornell':
            return centred_crop(height, width, self.side, rects)
        return self.fixed_crop


def centred_crop(height: int, width: int, side: int, rects: Sequence[GraspRect]) -> tuple[int, int, int]:
    """GR-ConvNet's Cornell crop: a side×side square whose centre is the mean of the rectangles'
    corners (= the mean of their centres), truncated to whole pixels, then moved inside the image."""
    if side > min(height, width):
        raise ValueError(f'crop side {side} does not fit a {width}x{height} image')
    if not rects:
        raise ValueError('the cornell crop is centred on the ground truth, and this sample has none')
    cx = int(np.mean([r.cx for r in rects]))
    cy = int(np.mean([r.cy for r in rects]))
    x0 = max(0, min(cx - side // 2, width - side))
    y0 = max(0, min(cy - side // 2, height - side))
    return x0, y0, side


def split_indices(count: int, *, split: str, fold: int, folds: int = 5, seed: int = SPLIT_SEED) -> list[int]:
    """Test indices of fold `fold` (0-based) of `folds` over `count` samples in name order.

    image-wise: the samples shuffled with `seed`, then cut into folds (an object's other views stay in
    training). object-wise: cut in name order, as the anchors do without shuffling; Cornell numbers the
    views of one object consecutively, so a fold holds whole objects except at its two ends."""
    if split not in SPLITS:
        raise ValueError(f'split {split!r} is not one of {", ".join(SPLITS)}')
    if folds < 2 or not 0 <= fold < folds:
        raise ValueError(f'fold {fold} of {folds}: need folds >= 2 and 0 <= fold < folds')
    order = np.arange(count)
    if split == 'image-wise':
        order = np.random.default_rng(seed).permutation(count)
    bounds = np.linspace(0, count, folds + 1).round().astype(int)
    return sorted(int(i) for i in order[bounds[fold]:bounds[fold + 1]])
