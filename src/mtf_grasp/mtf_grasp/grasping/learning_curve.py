"""The learning-curve plot of a training run: loss per epoch and, where measured, held-out accuracy."""
from __future__ import annotations

from pathlib import Path


def plot_learning_curve(history: list[dict], path: str | Path, *, title: str) -> None:
    """`history`: one {"epoch", "loss", "val_accuracy" (or None)} per epoch -> a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    epochs = [h['epoch'] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(epochs, [h['loss'] for h in history], color='tab:blue', marker='.', label='training loss')
    ax.set_xlabel('epoch')
    ax.set_ylabel('training loss', color='tab:blue')
    ax.set_yscale('log')
    measured = [(h['epoch'], h['val_accuracy']) for h in history if h.get('val_accuracy') is not None]
    if measured:
        acc_ax = ax.twinx()
        acc_ax.plot(*zip(*measured), color='tab:orange', marker='o', label='held-out accuracy')
        acc_ax.set_ylabel('held-out top-1 accuracy', color='tab:orange')
        acc_ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
