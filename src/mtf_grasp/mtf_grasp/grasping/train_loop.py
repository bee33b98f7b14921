"""The training loop every job shares (centralised `train_job` and each robot's local update):
epochs over chosen samples, seeded and repeatable, with an optional FedProx term."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from mtf_grasp.grasping.device import resolve_precision


@dataclass(frozen=True)
class OptimizerSettings:
    """The optimiser fields of every training config, with one set of defaults."""

    lr: float = 1e-3
    batch_size: int = 8
    optimizer: Literal['adam', 'sgd'] = 'adam'
    momentum: float = 0.9        # SGD only; FedNova's step count a accounts for it
    weight_decay: float = 0.0
    device: str = 'cpu'          # 'auto' takes the GPU where there is one
    # 'bf16': autocast the forward pass to bfloat16 where the CPU (AVX512-BF16/AMX) or GPU has it;
    # 'auto' picks bf16 there and fp32 elsewhere. Weights, optimiser and loss stay fp32.
    precision: Literal['fp32', 'bf16', 'auto'] = 'fp32'


@dataclass
class TrainStats:
    steps: int
    mean_loss: float
    epoch_losses: list[float] = field(default_factory=list)


def grasp_loss(raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on the quality logits everywhere, plus smooth-L1 on cos 2θ, sin 2θ and
    width where there is a grasp (elsewhere those maps mean nothing and would dilute the signal)."""
    quality = F.binary_cross_entropy_with_logits(raw[:, 0], target[:, 0])
    mask = target[:, 0] > 0
    if not mask.any():
        return quality + 0.0 * raw[:, 1:].sum()
    geometry = sum(F.smooth_l1_loss(raw[:, k][mask], target[:, k][mask]) for k in (1, 2, 3))
    return quality + geometry


def mean_loss(model: torch.nn.Module, dataset, *, indices: Sequence[int], batch_size: int = 32,
              device: str = 'cpu') -> float:
    """`grasp_loss` of `model` (eval mode, no augmentation) over `indices` of `dataset`, each batch
    weighted by its size: how well a model fits data it did not necessarily train on."""
    indices = list(indices)
    if not indices:
        raise ValueError('mean_loss needs at least one sample')
    model.to(device).eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start:start + batch_size]
            pairs = [dataset.tensors(i, device) for i in chunk]
            x, y = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
            total += float(grasp_loss(model.raw(x).float(), y)) * len(chunk)
    return total / len(indices)


def prox_penalty(model: torch.nn.Module, reference: dict[str, torch.Tensor], mu: float) -> torch.Tensor:
    """FedProx: mu/2 · ||w − w_ref||² over the trainable parameters."""
    total = sum(((p - reference[name]) ** 2).sum() for name, p in model.named_parameters())
    return 0.5 * mu * total


@contextlib.contextmanager
def deterministic():
    """Deterministic kernels for the duration (restored afterwards): same inputs, same bits.

    Deterministic mode also fills every new tensor with NaN, to expose kernels that read memory they
    never wrote. None of the training loop's kernels do (its weights are the same bits with the fill
    on, tested), and the fill costs every step a pass over each new tensor, so it is off here."""
    fill = torch.utils.deterministic.fill_uninitialized_memory
    before, bench = torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)
        torch.utils.deterministic.fill_uninitialized_memory = fill
        torch.backends.cudnn.benchmark = bench


def make_optimizer(model: torch.nn.Module, *, name: str, lr: float, momentum: float,
                   weight_decay: float) -> torch.optim.Optimizer:
    # foreach: one call per step for all tensors instead of a Python loop over them (torch picks it
    # on GPUs only); the same per-tensor arithmetic, so the same bits (tested). fused=True would be
    # faster still, but changes the bits of every stored run (docs/experiments.md).
    if name == 'adam':
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, foreach=True)
    if name == 'sgd':
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                               foreach=True)
    raise ValueError(f"optimizer {name!r} is not 'adam' or 'sgd'")


def _batch(dataset, indices: Sequence[int], seed: int, epoch: int, device: str):
    if dataset.augmented:
        # Each sample's augmentation depends only on (seed, epoch, sample): the order of work cannot change it.
        pairs = [dataset.item(i, rng=np.random.default_rng([seed, epoch, i])) for i in indices]
    else:
        # Unaugmented samples never change: their tensors are made once and kept on the device.
        pairs = [dataset.tensors(i, device) for i in indices]
    x = torch.stack([p[0] for p in pairs]).to(device, memory_format=torch.channels_last)
    y = torch.stack([p[1] for p in pairs]).to(device)
    return x, y


def train_epochs(model: torch.nn.Module, dataset, *, indices: Sequence[int], epochs: int, lr: float,
                 batch_size: int, seed: int, device: str = OptimizerSettings.device,
                 optimizer: str = OptimizerSettings.optimizer, momentum: float = OptimizerSettings.momentum,
                 weight_decay: float = OptimizerSettings.weight_decay, prox_mu: float = 0.0,
                 prox_reference: dict[str, torch.Tensor] | None = None,
                 precision: str = OptimizerSettings.precision,
                 progress: bool = False,
                 on_epoch: Callable[[int, float], bool | None] | None = None,
                 lr_factor: Callable[[int], float] | None = None) -> TrainStats:
    """Train `model` in place for `epochs` passes over `indices` of `dataset` (a GraspDataset).

    A fresh optimizer each call; shuffling from a seeded generator, no worker processes and
    deterministic kernels, so the same weights, indices and seed give bit-identical results on one
    machine. `on_epoch(epoch, mean_loss)` is called after each epoch; returning True stops early.
    `lr_factor(epoch)`, if given, scales `lr` for that epoch (a schedule). `precision` 'bf16' (or
    'auto' where the hardware has bf16) runs the forward pass under bfloat16 autocast; the weights,
    the optimiser and the loss stay fp32.
    """
    indices = list(indices)
    if not indices or epochs <= 0:
        return TrainStats(steps=0, mean_loss=float('nan'), epoch_losses=[])
    # Channels-last convolutions are ~20 % faster on CPU; the model goes back to the default layout
    # afterwards, because safetensors and the model codec need contiguous tensors.
    model.to(device, memory_format=torch.channels_last)
    opt = make_optimizer(model, name=optimizer, lr=lr, momentum=momentum, weight_decay=weight_decay)
    reference = None
    if prox_mu > 0:
        if prox_reference is None:
            raise ValueError('prox_mu > 0 needs prox_reference (the global state_dict)')
        reference = {k: v.detach().to(device) for k, v in prox_reference.items()}
    bf16 = resolve_precision(precision, device) == 'bf16'
    autocast_device = 'cuda' if device.startswith('cuda') else 'cpu'
    generator = torch.Generator().manual_seed(seed)
    steps, epoch_losses, all_losses = 0, [], []
    with deterministic():
        for epoch in range(epochs):
            model.train()  # each epoch: on_epoch may have evaluated the model (eval mode) after the last
            if lr_factor is not None:
                for group in opt.param_groups:
                    group['lr'] = lr * lr_factor(epoch)
            order = [indices[k] for k in torch.randperm(len(indices), generator=generator).tolist()]
            batches = [order[k:k + batch_size] for k in range(0, len(order), batch_size)]
            losses = []
            for chunk in tqdm(batches, desc=f'epoch {epoch + 1}/{epochs}', disable=not progress, leave=False):
                x, y = _batch(dataset, chunk, seed, epoch, device)
                with torch.autocast(autocast_device, dtype=torch.bfloat16, enabled=bf16):
                    raw = model.raw(x)
                loss = grasp_loss(raw.float(), y)
                total = loss + prox_penalty(model, reference, prox_mu) if reference is not None else loss
                opt.zero_grad(set_to_none=True)
                total.backward()
                opt.step()
                losses.append(float(loss.detach()))
                steps += 1
            epoch_losses.append(float(np.mean(losses)))
            all_losses.extend(losses)
            if on_epoch is not None and on_epoch(epoch, epoch_losses[-1]):
                break
    model.to(memory_format=torch.contiguous_format)
    return TrainStats(steps=steps, mean_loss=float(np.mean(all_losses)), epoch_losses=epoch_losses)
