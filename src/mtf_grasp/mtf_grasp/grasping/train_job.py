"""The centralised training job (`mtf-grasp train`): a YAML config and a dataset -> model file,
history and learning curve; the loop itself is `train_loop`."""
from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mtf_grasp.grasping.augment import Augmentation
from mtf_grasp.grasping.dataset import GraspDataset, open_dataset
from mtf_grasp.grasping.device import resolve_device
from mtf_grasp.grasping.evaluation import evaluate
from mtf_grasp.grasping.learning_curve import plot_learning_curve
from mtf_grasp.grasping.model_file import build_model, save_model
from mtf_grasp.grasping.model_spec import ModelSpec
from mtf_grasp.grasping.selection import sample_range
from mtf_grasp.grasping.train_loop import OptimizerSettings, train_epochs


@dataclass(frozen=True)
class TrainConfig(OptimizerSettings):
    """`mtf-grasp train`'s config: the shared optimiser fields plus the centralised job's own."""

    model: ModelSpec = field(default_factory=ModelSpec)
    epochs: int = 30
    seed: int = 0
    augment: bool = True
    augmentation: Augmentation = field(default_factory=Augmentation)   # what `augment` does
    format: str = 'auto'
    samples: str = ':'            # training samples, "A:B" in name order
    val_samples: str = ''         # held-out samples for the learning curve, "A:B"; '' = none
    jaw_from_data: bool = True    # predicted jaw size from the training rectangles (see fit_jaw)
    max_minutes: float | None = None   # wall-clock budget: stop when the next epoch would end past it
    cosine_lr: bool = True        # decay lr to 0 along a cosine over the run (epochs or time, whichever ends first)
    skip_bad: bool = False
    stereo_depth: bool = False
    threads: int | None = None    # CPU threads for torch; 1 is fastest on a CPU shared with other jobs


def fit_jaw(spec: ModelSpec, dataset: GraspDataset, indices: list[int]) -> ModelSpec:
    """Predicted jaws follow the training data: a fixed size where the jaws are (a gripper's fingers),
    else the median jaw/opening ratio, whichever varies less (coefficient of variation)."""
    rects = [r for i in indices for r in dataset.load(i)[1] if r.length > 0]
    if not rects:
        return spec
    jaws = np.array([r.jaw for r in rects])
    ratios = jaws / np.array([r.length for r in rects])
    ratio = round(float(np.median(ratios)), 4)
    if np.std(jaws) / np.mean(jaws) < np.std(ratios) / np.mean(ratios):
        return dataclasses.replace(spec, jaw_ratio=ratio, jaw_px=round(float(np.median(jaws)), 3))
    return dataclasses.replace(spec, jaw_ratio=ratio, jaw_px=0.0)


def cosine_factor(*, progress: float) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


def run_progress(epoch: int, planned: int, done: list[dict], max_minutes: float | None) -> float:
    """How far through the run epoch `epoch` is: by epochs, or under a time budget by the share of
    the epochs that fit (at the mean epoch time so far), whichever is further."""
    by_epochs = epoch / planned
    if max_minutes is None or not done:
        return by_epochs
    fitting = max(int(max_minutes * 60 / (done[-1]['seconds'] / len(done))), 1)
    return max(by_epochs, epoch / fitting)


def run_training(cfg: TrainConfig, data: str | Path, out: str | Path, *, progress: bool = True) -> dict:
    """Train as `cfg` says on `data`, write out/model.safetensors, history.json, learning_curve.png;
    return the history (also what history.json holds)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(cfg.device)
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    ds = open_dataset(data, fmt=cfg.format, spec=cfg.model, augment=cfg.augment and cfg.augmentation,
                      skip_bad=cfg.skip_bad,
                      stereo_depth=cfg.stereo_depth, progress=progress)
    train_idx = sample_range(cfg.samples, len(ds), what='samples')
    val_idx = sample_range(cfg.val_samples, len(ds), what='val_samples') if cfg.val_samples else []
    spec = fit_jaw(cfg.model, ds, train_idx) if cfg.jaw_from_data else cfg.model
    ds.spec = spec
    torch.manual_seed(cfg.seed)
    model = build_model(spec)
    epochs: list[dict] = []
    start = time.monotonic()

    def after_epoch(epoch: int, loss: float) -> bool:
        acc = evaluate(model, ds, indices=val_idx, device=device).accuracy if val_idx else None
        epochs.append({'epoch': epoch + 1, 'loss': loss, 'val_accuracy': acc,
                       'seconds': round(time.monotonic() - start, 2)})
        if progress:
            shown = '' if acc is None else f', held-out accuracy {acc:.3f}'
            print(f'epoch {epoch + 1}/{cfg.epochs}: loss {loss:.4f}{shown} ({epochs[-1]["seconds"]:.0f} s)',
                  flush=True)
        # Stop when another epoch like the ones so far would end past the budget.
        elapsed = time.monotonic() - start
        return cfg.max_minutes is not None and elapsed * (len(epochs) + 1) / len(epochs) > cfg.max_minutes * 60

    def lr_factor(epoch: int) -> float:
        return cosine_factor(progress=run_progress(epoch, cfg.epochs, epochs, cfg.max_minutes))

    stats = train_epochs(model, ds, indices=train_idx, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                         seed=cfg.seed, device=device, optimizer=cfg.optimizer, momentum=cfg.momentum,
                         weight_decay=cfg.weight_decay, precision=cfg.precision, progress=progress, on_epoch=after_epoch,
                         lr_factor=lr_factor if cfg.cosine_lr else None)
    history = {'config': dataclasses.asdict(cfg), 'spec': dataclasses.asdict(spec), 'data': str(data),
               'format': ds.format, 'device': device, 'threads': torch.get_num_threads(), 'train_samples': len(train_idx),
               'val_samples': len(val_idx), 'skipped': [list(s) for s in ds.skipped], 'steps': stats.steps,
               'seconds': round(time.monotonic() - start, 2), 'epochs': epochs,
               'final_val_accuracy': epochs[-1]['val_accuracy'] if epochs else None}
    save_model(out / 'model.safetensors', model, spec,
               extra_meta={'epochs': len(epochs), 'train_samples': len(train_idx), 'format': ds.format,
                           'seed': cfg.seed, 'val_accuracy': history['final_val_accuracy']})
    (out / 'history.json').write_text(json.dumps(history, indent=2))
    plot_learning_curve(epochs, out / 'learning_curve.png',
                        title=f'{spec.arch} w{spec.width} {spec.channels} {spec.input_size}px, '
                              f'{len(train_idx)} {ds.format} samples')
    return history
