"""The demo's outputs from a fleet run directory: the final model, the accuracy-per-round plot
and the closing summary (no ROS needed)."""
from __future__ import annotations

import json
from pathlib import Path

from mtf_grasp.errors import InputError


def _json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f'{path}: no {what} (did the fleet run finish?)') from None
    except json.JSONDecodeError as exc:
        raise InputError(f'{path}: not JSON ({exc})') from None


def final_model(run_dir: str | Path) -> Path:
    """The global model of the fleet's last round (checkpoints/latest.json names it)."""
    latest = Path(run_dir) / 'checkpoints' / 'latest.json'
    return latest.parent / _json(latest, 'checkpoint record')['file']


def load_summary(run_dir: str | Path) -> dict:
    summary = _json(Path(run_dir) / 'summary.json', 'fleet summary')
    if not summary.get('rounds'):
        raise InputError(f'{run_dir}/summary.json: no rounds recorded')
    return summary


def heldout_accuracy(model: str | Path, root: str | Path) -> tuple[float, int]:
    """Top-1 rectangle-metric accuracy (and sample count) of a model file on a dataset folder."""
    from mtf_grasp.grasping import evaluate, load_model, open_dataset

    net, spec, _ = load_model(model, device='cpu')
    result = evaluate(net, open_dataset(root, spec=spec, progress=False), device='cpu')
    return result.accuracy, result.samples


def plot_rounds(summary: dict, path: str | Path) -> Path:
    """accuracy_per_round.png: the global model's test accuracy after each round."""
    from mtf_grasp.federated.report import plot_accuracy_per_round

    curve = [r['global_accuracy'] for r in summary['rounds']]
    plot_accuracy_per_round({summary['method']: {'accuracy_per_round': curve}}, Path(path),
                            title=f'ROS 2 fleet, {len(curve)} rounds (SimGrasp test split)')
    return Path(path)


def closing_summary(*, run_dir: str | Path, images: list[Path], plot: Path,
                    heldout: tuple[float, int] | None) -> str:
    """What the demo showed and where its files are."""
    from mtf_grasp.federated.report import label

    run_dir = Path(run_dir)
    summary = load_summary(run_dir)
    lines = [f'fleet: {label(summary["method"])}, {len(summary["rounds"])} rounds over ROS 2; final global '
             f'accuracy {summary["final_accuracy"]:.3f} on the held-out test split',
             f'  accuracy per round:    {plot}',
             f'  fleet record:          {run_dir / "summary.json"} (node logs in {run_dir / "logs"})',
             f'  final global model:    {final_model(run_dir)}']
    served = f'grasp_inference served the final model on a replay of scenes the fleet never saw ({len(images)} images)'
    if heldout is not None:
        served += f'; its accuracy on {heldout[1]} such scenes: {heldout[0]:.3f}'
    lines.append(served)
    if images:
        lines.append(f'  annotated grasps:      {images[0]} .. {images[-1].name}')
    return '\n'.join(lines)
