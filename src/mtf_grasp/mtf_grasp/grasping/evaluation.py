"""Rectangle-metric accuracy of a model on dataset samples."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from mtf_grasp.grasping.dataset import GraspSample
from mtf_grasp.grasping.decode import maps_to_grasps
from mtf_grasp.grasping.metric import grasp_success
from mtf_grasp.grasping.rect import GraspRect


@dataclass
class EvalResult:
    accuracy: float
    samples: int
    successes: list[bool] = field(default_factory=list)


def evaluate(model: torch.nn.Module, dataset, *, indices: Sequence[int] | None = None, top_k: int = 1,
             device: str = 'cpu', batch_size: int = 16,
             forward: Callable[[np.ndarray], np.ndarray] | None = None) -> EvalResult:
    """Share of samples where one of the model's top-k grasps matches a ground-truth rectangle
    (within 30°, IoU > 0.25). Inputs are not augmented. `forward` (1×C×S×S input -> 4×S×S maps,
    e.g. a GraspDetector's onnxruntime or int8 pass) replaces the model's own batched pass."""
    indices = list(range(len(dataset))) if indices is None else list(indices)
    model.to(device).eval()
    successes = []
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start:start + batch_size]
            loaded = [dataset.load(i) for i in chunk]
            if forward is None:
                out = model(torch.from_numpy(np.stack([x for x, _ in loaded])).to(device)).cpu()
            else:
                out = [forward(np.asarray(x)[None]) for x, _ in loaded]
            for maps, (_, gt) in zip(out, loaded):
                pred = maps_to_grasps(maps, max_grasps=top_k, spec=model.spec)
                successes.append(grasp_success(pred, gt, top_k=top_k))
    return _result(successes)


def evaluate_frames(detect: Callable[[GraspSample], list[GraspRect]], dataset, *, indices: Sequence[int],
                    top_k: int = 1) -> EvalResult:
    """Accuracy of a whole-frame detector: `detect` takes a sample as the camera saw it and returns
    grasps in source pixels, best first (e.g. the inference node's GraspDetector with its fixed crop
    and workspace); they are scored against the sample's source-pixel ground truth."""
    successes = [grasp_success(detect(dataset.sample(i)), dataset.source_rects(i), top_k=top_k) for i in indices]
    return _result(successes)


def _result(successes: list[bool]) -> EvalResult:
    accuracy = float(np.mean(successes)) if successes else 0.0
    return EvalResult(accuracy=accuracy, samples=len(successes), successes=successes)
