"""A study's results: per-run records, per (variant, method) summaries, paired differences against
the baselines, a Markdown table and PNG plots with error bands."""
from __future__ import annotations

import statistics
from pathlib import Path

from mtf_grasp.federated.report import _pyplot, label
from mtf_grasp.federated.statistics import describe, paired_difference
from mtf_grasp.federated.study import OWN_BASELINE


def _name(method: str, variant: str, baseline_variant: str) -> str:
    return label(method) if variant == baseline_variant else f'{label(method)} [{variant}]'


def summarise(runs: list[dict], *, baseline_variant: str) -> tuple[list[dict], list[dict]]:
    """(summary per (variant, method), paired differences per (variant, method, baseline)): each run
    against the baseline variant's FedAvg, its own baseline (FedNova for MTF-Grasp-Nova), and the
    baseline variant's run of the same method where it has one (a variant against the default)."""
    by_key: dict[tuple[str, str], dict[int, dict]] = {}
    for run in runs:
        by_key.setdefault((run['variant'], run['method']), {})[run['seed']] = run
    summary = [{'variant': v, 'method': m, **describe([r['score'] for r in seeds.values()]),
                'final': describe([r['final_accuracy'] for r in seeds.values()]),
                'rounds_median': statistics.median(r['rounds'] for r in seeds.values())}
               for (v, m), seeds in by_key.items()]
    differences = []
    for (variant, method), seeds in by_key.items():
        for baseline in dict.fromkeys(('fedavg', OWN_BASELINE.get(method), method)):
            reference = by_key.get((baseline_variant, baseline)) if baseline else None
            if reference is None or (variant, method) == (baseline_variant, baseline):
                continue
            paired = sorted(set(seeds) & set(reference))
            if not paired:
                continue
            differences.append({'method': method, 'variant': variant, 'baseline': baseline,
                                **paired_difference([seeds[s]['score'] for s in paired],
                                                    [reference[s]['score'] for s in paired])})
    return summary, differences


def machines_by_seed(runs: list[dict]) -> dict[int, list[str]]:
    """{seed: the processors (or GPUs) its runs ran on}: runs of two machines are not bit-comparable."""
    machines: dict[int, set[str]] = {}
    for run in runs:
        if 'machine' in run:
            machines.setdefault(run['seed'], set()).add(f"{run['machine']['name']} ({run['machine']['precision']})")
    return {seed: sorted(names) for seed, names in sorted(machines.items())}


def _pct(value) -> str:
    return '–' if value is None else f'{100 * value:.1f}'


def _pp(value) -> str:
    return '–' if value is None else f'{value:+.1f}'


def markdown(results: dict) -> str:
    """table.md: accuracy per (variant, method) and the paired differences, in percent."""
    base = results['baseline_variant']
    lines = [f"# {results['study']} ({results['preset']} preset), seeds {results['seeds_text']}", '',
             f"Score: {results['metric']}. Test split: {results['test_samples']} scenes "
             f"(one scene = {100 / results['test_samples']:.2f} points).", '']
    machines = machines_by_seed(results.get('runs', []))
    if machines:
        lines += ['Machines (`machine` of each run): ' + '; '.join(
            f"seed {seed}: {', '.join(names)}" for seed, names in machines.items()) + '.', '']
    if not results.get('complete', True):
        lines += [f"**Incomplete**: {len(results['missing'])} planned runs are not stored yet "
                  f"({', '.join(results['missing'])}); each row counts its own seeds.", '']
    lines += ['| method | score % (mean ± sd) | min–max % | last round % | rounds (median) | seeds |',
              '|---|---|---|---|---|---|']
    for row in results['summary']:
        sd = '' if row['sd'] is None else f" ± {100 * row['sd']:.1f}"
        lines.append(f"| {_name(row['method'], row['variant'], base)} | {_pct(row['mean'])}{sd} | "
                     f"{_pct(row['min'])}–{_pct(row['max'])} | {_pct(row['final']['mean'])} | "
                     f"{row['rounds_median']:g} | {row['seeds']} |")
    lines += ['', 'Paired differences (per seed, percentage points; 95 % t-interval, sample sd):', '',
              '| method | − baseline | mean pp | sd pp | 95 % interval pp | seeds |', '|---|---|---|---|---|---|']
    for d in results['differences']:
        ci = '–' if d['ci95_pp'] is None else f"[{d['ci95_pp'][0]:+.1f}, {d['ci95_pp'][1]:+.1f}]"
        sd = '–' if d['sd_pp'] is None else f"{d['sd_pp']:.1f}"
        lines.append(f"| {_name(d['method'], d['variant'], base)} | {label(d['baseline'])} | {_pp(d['mean_pp'])} | "
                     f"{sd} | {ci} | {d['seeds']} |")
    return '\n'.join(lines) + '\n'


def plot_curves(results: dict, path: Path) -> None:
    """Mean accuracy per round over seeds with a ±1 sd band (runs end at their own plateau, so a
    round's band covers the seeds still running)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.4, 4.6))
    groups: dict[tuple[str, str], list[list[float]]] = {}
    for run in results['runs']:
        groups.setdefault((run['variant'], run['method']), []).append(run['accuracy_per_round'])
    for (variant, method), curves in groups.items():
        longest = max(map(len, curves))
        means, sds = [], []
        for r in range(longest):
            values = [100 * c[r] for c in curves if len(c) > r]
            means.append(statistics.fmean(values))
            sds.append(statistics.stdev(values) if len(values) > 1 else 0.0)
        xs = range(1, longest + 1)
        line, = ax.plot(xs, means, marker='o', markersize=2.5, label=_name(method, variant, results['baseline_variant']))
        ax.fill_between(xs, [m - s for m, s in zip(means, sds)], [m + s for m, s in zip(means, sds)],
                        color=line.get_color(), alpha=0.12)
    ax.set(xlabel='round', ylabel='global model test accuracy (%)', title=f"{results['study']}: mean ± sd over seeds")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_differences(results: dict, path: Path) -> None:
    """Each paired difference as its mean with the 95 % interval; 0 marked."""
    plt = _pyplot()
    rows = [d for d in results['differences'] if d['ci95_pp'] is not None]
    fig, ax = plt.subplots(figsize=(7.0, 0.45 * len(rows) + 1.4))
    for y, d in enumerate(rows):
        low, high = d['ci95_pp']
        ax.errorbar(d['mean_pp'], y, xerr=[[d['mean_pp'] - low], [high - d['mean_pp']]], fmt='o', capsize=3)
    ax.axvline(0, color='grey', lw=1)
    ax.set_yticks(range(len(rows)), [f"{_name(d['method'], d['variant'], results['baseline_variant'])} − "
                                     f"{label(d['baseline'])}" for d in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel='paired difference, percentage points (95 % interval)', title=results['study'])
    ax.grid(alpha=0.3, axis='x')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
