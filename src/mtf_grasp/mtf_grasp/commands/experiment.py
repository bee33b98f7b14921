"""`mtf-grasp experiment`: every federated method and both reference bounds on one partition."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        'experiment', help='compare FedAvg, FedNova, MTF-Grasp-Avg/Nova, centralized and local-only',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--config', required=True, metavar='FILE', help='config/experiments/*.yaml')
    parser.add_argument('--quick', action='store_true', help="apply the config's quick: overrides")
    parser.add_argument('--seed', type=int, default=None, help="override the config's seed")
    parser.add_argument('--seeds', type=int, nargs='+', metavar='S',
                        help='run once per seed into DIR/seed_S and write the mean over seeds')
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='results.json, partition.json, table.md and PNG plots go here')
    parser.add_argument('--json', action='store_true', help='print the results as JSON on stdout')
    parser.add_argument('--manifest', metavar='FILE', help='reuse this partition manifest')
    parser.add_argument('--ablations', action='store_true',
                        help='also run MTF-Grasp-Avg ranked by DDS/DQS/random, for every j and assignment')
    parser.add_argument('--crash', action='append', default=[], metavar='ROBOT:ROUND', type=_crash,
                        help='the robot crashes at the start of that round (0-based) and misses it, '
                             'in every federated method; repeatable')
    parser.add_argument('--attack', action='append', default=[], metavar='ROBOT:KIND[:FROM_ROUND]',
                        help='the robot (an id, or top:K / low:K of the round-0 plan) attacks from that round '
                             'on, in every federated method; KIND: scale10, scale100, sign_flip, noise, '
                             'rotated_labels, inflated_profile, forged_aggregate, dropped_member '
                             '(docs/security.md); repeatable')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars on stderr')
    parser.set_defaults(run=run)


def _crash(text: str) -> tuple[str, int]:
    from mtf_grasp.federated.experiment import parse_crash

    try:
        return parse_crash(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _crashes(pairs: list[tuple[str, int]]) -> dict[int, frozenset[str]]:
    rounds: dict[int, set[str]] = {}
    for robot, index in pairs:
        rounds.setdefault(index, set()).add(robot)
    return {index: frozenset(robots) for index, robots in rounds.items()}


def _attacks(texts: list[str]) -> list:
    """The parsed --attack values; InputError (one line, exit 2) for bad text."""
    from mtf_grasp.errors import InputError
    from mtf_grasp.federated.attacks import parse_attack

    try:
        return [parse_attack(text) for text in texts]
    except ValueError as exc:
        raise InputError(f'--attack: {exc}') from None


def _run_once(args, seed: int | None, out: Path) -> tuple[dict, list[Path]]:
    import torch

    from mtf_grasp.errors import InputError
    from mtf_grasp.federated.ablations import run_ablations
    from mtf_grasp.federated.config import load_experiment_config
    from mtf_grasp.federated.experiment import check_crashes, resolve_attacks, run_experiment
    from mtf_grasp.federated.report import write_report
    from mtf_grasp.federated.workload import prepare_workload

    config = load_experiment_config(args.config, quick=args.quick, seed=seed)
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    out.mkdir(parents=True, exist_ok=True)
    try:
        workload = prepare_workload(config, manifest=args.manifest)
    except ValueError as exc:
        raise InputError(f'{args.config}: cannot partition {config.data.root}: {exc}') from None
    workload.partition.save(out / 'partition.json')
    progress = not args.no_progress
    crashes = _crashes(args.crash)
    try:
        check_crashes(crashes, config=config, workload=workload)
    except ValueError as exc:
        raise InputError(f'--crash: {exc}') from None
    attacks = _attacks(args.attack)
    try:
        resolve_attacks(attacks, config=config, workload=workload)
    except ValueError as exc:
        raise InputError(f'--attack: {exc}') from None
    result = run_experiment(config, workload, progress=progress, crashes=crashes, attacks=attacks)
    if args.ablations:
        result['ablations'] = run_ablations(config, workload, progress=progress)
    result['quick'] = args.quick
    (out / 'results.json').write_text(json.dumps(result, indent=1) + '\n')
    title = f'{config.name}{" (quick)" if args.quick else ""}, seed {config.seed}'
    return result, [out / 'results.json', out / 'partition.json', *write_report(result, out, title=title)]


def _run_seeds(args, out: Path) -> tuple[dict, list[Path]]:
    from mtf_grasp.federated.report import plot_accuracy_per_round, seeds_table, summarise_seeds

    results = {seed: _run_once(args, seed, out / f'seed_{seed}')[0] for seed in args.seeds}
    summary = summarise_seeds(results)
    name = f'{Path(args.config).stem}{" (quick)" if args.quick else ""}'
    paths = [out / 'summary.json', out / 'summary.md', out / 'accuracy_per_round_mean.png']
    paths[0].write_text(json.dumps(summary, indent=1) + '\n')
    paths[1].write_text(seeds_table(summary, dataset=name))
    plot_accuracy_per_round(summary['methods'], paths[2], title=f'{name}, mean of {len(args.seeds)} seeds')
    return summary, paths


def run(args) -> int:
    _attacks(args.attack)   # bad text fails before any work
    out = Path(args.out)
    result, paths = _run_seeds(args, out) if args.seeds else _run_once(args, args.seed, out)
    if args.json:
        print(json.dumps(result))
    else:
        print(paths[1 if args.seeds else 5].read_text(), end='')
        for path in paths:
            print(f'wrote {path}')
    return 0
