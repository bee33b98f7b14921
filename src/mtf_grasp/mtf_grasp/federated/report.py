"""Experiment report: PNG plots (accuracy per round, per-robot accuracy, the IS ranking) and a
Markdown table in the style of the paper's results table."""
from __future__ import annotations

from pathlib import Path

LABELS = {'fedavg': 'FedAvg', 'fednova': 'FedNova', 'fedprox': 'FedProx', 'mtf_avg': 'MTF-Grasp-Avg',
          'mtf_nova': 'MTF-Grasp-Nova', 'centralized': 'Centralized (upper bound)',
          'local_only': 'Local only (lower bound)'}


def label(method: str) -> str:
    return LABELS.get(method, method)


def _pyplot():
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def plot_accuracy_per_round(methods: dict, path: Path, *, title: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for method, result in methods.items():
        curve = [100 * a for a in result['accuracy_per_round']]
        ax.plot(range(1, len(curve) + 1), curve, marker='o', markersize=3, label=label(method))
    ax.set(xlabel='round', ylabel='test accuracy (%)', title=title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_per_robot_accuracy(methods: dict, path: Path, *, title: str) -> None:
    plt = _pyplot()
    shown = {m: r['per_robot_accuracy'] for m, r in methods.items() if r['per_robot_accuracy']}
    robots = sorted({rid for accs in shown.values() for rid in accs}, key=lambda r: int(r.rsplit('_', 1)[-1]))
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    width = 0.8 / max(len(shown), 1)
    for k, (method, accs) in enumerate(shown.items()):
        xs = [i + (k - (len(shown) - 1) / 2) * width for i in range(len(robots))]
        ax.bar(xs, [100 * accs.get(r, 0.0) for r in robots], width=width, label=label(method))
    ax.set_xticks(range(len(robots)), [r.replace('robot_', 'r') for r in robots])
    ax.set(xlabel='robot', ylabel='accuracy of its last local model (%)', title=title)
    ax.legend(fontsize=7, ncol=3, loc='upper center', bbox_to_anchor=(0.5, -0.15))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_ranking(scores: list[dict], top_level: list[str], path: Path, *, title: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    names = [s['robot_id'].replace('robot_', 'r') for s in scores]
    xs = range(len(scores))
    ax.bar([x - 0.25 for x in xs], [s['dds'] for s in scores], width=0.25, label='DDS')
    ax.bar(list(xs), [s['dqs'] for s in scores], width=0.25, label='DQS')
    colours = ['tab:red' if s['robot_id'] in top_level else 'tab:gray' for s in scores]
    ax.bar([x + 0.25 for x in xs], [s['importance'] for s in scores], width=0.25, color=colours,
           label='IS (red: top-level)')
    for x, s in zip(xs, scores):
        ax.annotate(str(s['samples']), (x, s['dqs']), ha='center', va='bottom', fontsize=7)
    ax.set_xticks(list(xs), names)
    ax.set(xlabel='robot, by Importance Score (numbers: samples)', ylabel='score', ylim=(0, 1.1), title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_table(methods: dict, *, dataset: str) -> str:
    """| Method | <dataset> accuracy | Δ vs FedAvg | MB per round | |θ| |"""
    base = methods.get('fedavg', {}).get('final_accuracy')
    lines = [f'| Method | {dataset} accuracy (%) | Δ vs FedAvg (pt) | MB moved per round | |θ| |',
             '|---|---:|---:|---:|---:|']
    for method, result in methods.items():
        accuracy = 100 * result['final_accuracy']
        delta = '—' if base is None or method == 'fedavg' else f'{accuracy - 100 * base:+.1f}'
        moved = result['bytes_per_round'][-1]['payload_bytes'] / 1e6 if result['bytes_per_round'] else 0.0
        lines.append(f'| {label(method)} | {accuracy:.1f} | {delta} | {moved:.2f} | {result["params"]:,} |')
    return '\n'.join(lines) + '\n'


def write_report(result: dict, out_dir: Path, *, title: str) -> list[Path]:
    """Write the three plots and table.md into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / 'accuracy_per_round.png', out_dir / 'per_robot_accuracy.png',
             out_dir / 'importance_ranking.png', out_dir / 'table.md']
    plot_accuracy_per_round(result['methods'], paths[0], title=title)
    plot_per_robot_accuracy(result['methods'], paths[1], title=title)
    plot_ranking(result['scores'], result['assignment']['top_level'], paths[2], title=title)
    paths[3].write_text(markdown_table(result['methods'], dataset=title))
    return paths


def summarise_seeds(results: dict[int, dict]) -> dict:
    """{"seeds", "methods": {method: {"final_accuracy" (mean), "std", "per_seed", "accuracy_per_round"
    (mean curve)}}} over runs of the same config with different seeds."""
    import numpy as np

    seeds = sorted(results)
    methods = {}
    for method in results[seeds[0]]['methods']:
        finals = [results[s]['methods'][method]['final_accuracy'] for s in seeds]
        curves = np.array([results[s]['methods'][method]['accuracy_per_round'] for s in seeds])
        first = results[seeds[0]]['methods'][method]
        methods[method] = {'final_accuracy': float(np.mean(finals)), 'std': float(np.std(finals)),
                           'per_seed': finals, 'accuracy_per_round': curves.mean(axis=0).tolist(),
                           'per_robot_accuracy': {}, 'bytes_per_round': first['bytes_per_round'][-1:],
                           'params': first['params']}
    return {'seeds': seeds, 'methods': methods}


def seeds_table(summary: dict, *, dataset: str) -> str:
    """| Method | accuracy mean ± std over seeds | Δ vs FedAvg | per seed |"""
    methods = summary['methods']
    base = methods.get('fedavg', {}).get('final_accuracy')
    lines = [f'| Method | {dataset} accuracy (%), mean ± std of {len(summary["seeds"])} seeds '
             f'| Δ vs FedAvg (pt) | per seed (%) |', '|---|---:|---:|---|']
    for method, entry in methods.items():
        accuracy = 100 * entry['final_accuracy']
        delta = '—' if base is None or method == 'fedavg' else f'{accuracy - 100 * base:+.1f}'
        per_seed = ', '.join(f'{100 * a:.1f}' for a in entry['per_seed'])
        lines.append(f'| {label(method)} | {accuracy:.1f} ± {100 * entry["std"]:.1f} | {delta} | {per_seed} |')
    return '\n'.join(lines) + '\n'
