"""`mtf-grasp study`: every method × variant × seed of a study, resumable, with paired differences."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        'study', help='methods × variants × seeds until plateau; paired differences with 95 %% intervals',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--config', required=True, metavar='FILE', help='config/studies/*.yaml')
    parser.add_argument('--seeds', required=True, metavar='A-B', help="seeds, e.g. '0-4' or '0,3,7'")
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='runs/ (one JSON per finished run: a rerun skips them), results.json, table.md, plots')
    parser.add_argument('--preset', default='cpu', help="the study's preset (e.g. cpu, gpu)")
    parser.add_argument('--workers', type=int, default=0, help='worker processes (0: one per CPU core)')
    parser.add_argument('--data', metavar='ROOT', help="override data.root (a Cornell, Jacquard or SimGrasp folder)")
    parser.add_argument('--device', help="override training.device (cpu, cuda)")
    parser.add_argument('--variants', metavar='A,B', help="run only these variants (the report covers every stored run)")
    parser.add_argument('--methods', metavar='A,B', help='run only these methods')
    parser.add_argument('--report', action='store_true',
                        help='run nothing: write the report from the runs stored so far (missing runs are listed)')
    parser.add_argument('--json', action='store_true', help='print results.json on stdout')
    parser.set_defaults(run=run)


def _overrides(args) -> dict:
    overrides: dict = {}
    if args.data:
        overrides['data'] = {'root': args.data}
    if args.device:
        overrides['training'] = {'device': args.device}
    return overrides


def _interrupt(signum, frame):
    import signal

    # One-shot: `timeout` signals the whole process group, and a second signal must not break the
    # pool's cleanup.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _chosen(jobs: list, args) -> list:
    """The jobs that --variants/--methods select; InputError for a name the study does not have."""
    from mtf_grasp.errors import InputError

    for option, attribute in (('variants', 'variant'), ('methods', 'method')):
        text = getattr(args, option)
        if not text:
            continue
        names = [n.strip() for n in text.split(',') if n.strip()]
        known = sorted({getattr(job, attribute) for job in jobs})
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InputError(f"{args.config}: --{option} {','.join(unknown)}: not in this study ({', '.join(known)})")
        jobs = [job for job in jobs if getattr(job, attribute) in names]
    return jobs


def run(args) -> int:
    import signal

    from tqdm import tqdm

    from mtf_grasp.federated.study import load_study, parse_seeds, plan_jobs, run_jobs, stored_run
    from mtf_grasp.federated.study_report import markdown, plot_curves, plot_differences, summarise

    study, base = load_study(args.config)
    seeds = parse_seeds(args.seeds)
    jobs = plan_jobs(study, base, preset=args.preset, seeds=seeds, source=args.config, overrides=_overrides(args))
    out = Path(args.out)
    chosen = [] if args.report else _chosen(jobs, args)
    done = sum(stored_run(out, job) is not None for job in chosen)
    workers = args.workers or os.cpu_count() or 1
    bar = tqdm(total=len(chosen), initial=done, desc='study runs', unit='run', file=sys.stderr, disable=args.report)
    # SIGTERM stops the workers as Ctrl-C does (a background job may have SIGINT ignored).
    signal.signal(signal.SIGTERM, _interrupt)

    def finished(job, run) -> None:
        bar.write(f"{job.key}: {100 * run['score']:.1f} % after {run['rounds']} rounds ({run['seconds']:.0f} s)")
        bar.update()

    try:
        run_jobs(chosen, out, workers=workers, on_done=finished)
    except KeyboardInterrupt:
        bar.close()
        kept = sum(stored_run(out, job) is not None for job in jobs)
        print(f'mtf-grasp study: interrupted; {kept} of {len(jobs)} runs are stored in {out}/runs, '
              'run the same command again to continue', file=sys.stderr)
        return 130
    bar.close()
    stored = {job.key: stored_run(out, job) for job in jobs}
    runs = [run for run in stored.values() if run is not None]
    if not runs:
        print(f'mtf-grasp study: no run of this study is stored in {out}/runs yet', file=sys.stderr)
        return 1
    summary, differences = summarise(runs, baseline_variant=study.baseline_variant)
    plateau = study.presets[args.preset].plateau
    results = {'study': study.name, 'preset': args.preset, 'seeds': seeds, 'seeds_text': args.seeds,
               'metric': f'mean test accuracy of the last {plateau.window} rounds (plateau rule: '
                         f'{plateau.min_rounds}-{plateau.max_rounds} rounds, stop below +{100 * plateau.min_delta:g} '
                         f'points per {plateau.window} rounds)',
               'plateau': dataclasses.asdict(plateau), 'baseline_variant': study.baseline_variant,
               'test_samples': runs[0]['test_samples'], 'train_samples': runs[0]['train_samples'],
               'complete': len(runs) == len(jobs), 'missing': [key for key, run in stored.items() if run is None],
               'experiments': {job.variant: job.mapping for job in jobs},
               'summary': summary, 'differences': differences, 'runs': runs}
    (out / 'results.json').write_text(json.dumps(results, indent=1) + '\n')
    (out / 'table.md').write_text(markdown(results))
    plot_curves(results, out / 'accuracy_per_round.png')
    plot_differences(results, out / 'differences.png')
    if args.json:
        print(json.dumps(results))
    else:
        print((out / 'table.md').read_text(), end='')
        for name in ('results.json', 'table.md', 'accuracy_per_round.png', 'differences.png'):
            print(f'wrote {out / name}')
    return 0
