"""The attack table: what one malicious robot of 7 does to MTF-Grasp-Avg, with and without defences.

For each attack (one robot of the round-0 plan, from round 0) and the clean run, under each defence
setting, `mtf-grasp experiment` runs MTF-Grasp-Avg on the quantity-skew protocol (n = 7, j = 2,
et = 5, er = 15) with the quick-sized model (GG-CNN2, 40 px depth) on 300 training and 1000 test
SimGrasp scenes (one image = 0.1 points), for every seed, 5 rounds unless --rounds says otherwise. The
final accuracy is the last round's (the quick protocol's 5 rounds end while the clean model still climbs,
so a mean over the last rounds would mix stages); each cell is compared with the clean, undefended run of the same seed
and reading of eq. 8 (paired difference, 95 % t-interval with the sample standard deviation), and with `--versus COLUMN`
also with that column's run of the same row and seed (a defence against another); with `--before FILE`,
with the same cell's runs in an earlier table (the code before a change, the same CPU). The `offline` column
(low-level rows only) is a reference, not a defence: the row's attacking robot sends nothing in any
round, which is what a defence that refuses it in every round leaves (its data goes with its poison);
the `without` column (any row, beside another column) leaves that robot out of the partition, six robots.
`--preset cpu` runs the same table in the powered study's cpu preset instead (GG-CNN2 on 64 px RGB-D,
400 training and 900 test scenes, bf16 where the CPU has it; config/studies/quantity_skew.yaml),
with `--data data/simgrasp_1300_rgbd64`.

Resumable: a run whose results.json exists is not run again.

    mtf-grasp dataset pack data/simgrasp_1300 --out data/simgrasp_1300_depth40 --channels depth --input-size 40
    python benchmarks/attack_table.py --data data/simgrasp_1300_depth40 --seeds 0-2 --workers 2 \
        --work runs/attack_table --out docs/results/attack_table.json
"""
from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import torch
import yaml

from mtf_grasp.federated.attacks import parse_attack
from mtf_grasp.federated.config import load_experiment_config
from mtf_grasp.federated.experiment import FederatedRounds, initial_state, resolve_attacks
from mtf_grasp.federated.simulation import Wire
from mtf_grasp.federated.statistics import paired_difference
from mtf_grasp.federated.traffic import TrafficLedger
from mtf_grasp.federated.workload import prepare_workload
from mtf_grasp.grasping.device import describe_machine

ATTACKS = ('clean', 'low:1:scale10', 'low:1:scale100', 'top:1:scale100', 'low:1:sign_flip', 'low:1:noise',
           'low:1:rotated_labels', 'low:1:inflated_profile', 'low:1:inflated_weight', 'top:1:forged_aggregate',
           'top:1:dropped_member')
# Rows run only when --attacks names them: a coordinator poisoning its seed (and so every member's start)
# instead of a member poisoning its own model.
MORE_ROWS = ('top:1:sign_flip', 'top:1:noise', 'top:1:rotated_labels')
ROWS = (*ATTACKS, *MORE_ROWS)
# Relative to the tier's reference model; honest updates measured 0.12 to 0.19 of it on a clean seed-0 run
# (each clipped to report its norm), so this bound clips none of them.
BOUND = {'max_relative': 0.3, 'action': 'clip'}
CANDIDATE = {'norm_bound': {**BOUND, 'server_action': 'reject'}, 'check_members': True, 'check_claims': True}
DEFAULTS_BEFORE = {**CANDIDATE, 'direction_z': 3.0, 'fit_ratio': 1.5}
SEED_CHECK = {**DEFAULTS_BEFORE, 'seed_ratio': 1.5}
STEP_CHECK = {**SEED_CHECK, 'step_ratio': 0.25}
DEFENCES = {
    'none': {},
    'norm_bound': {'norm_bound': BOUND},
    'norm_reject': {'norm_bound': {**BOUND, 'action': 'reject'}},
    'trimmed_mean': {'aggregator': 'trimmed_mean', 'trim_fraction': 0.34},
    'median': {'aggregator': 'median'},
    # Updates that point no better than a random direction (cosine with the others' sum under 3/√d) refused.
    'direction': {'direction_z': 3.0},
    # Candidate defaults: clip members at the coordinators, reject cluster models at the server (a
    # clipped poisoned cluster still moves the global model its whole bound), plus the checks that
    # keep the traffic at 2·n·|θ| (receipts, claims; no audits).
    'candidate': CANDIDATE,
    # Members' models that fit their coordinator's data 1.5× worse than their peers' refused.
    'fit': {'fit_ratio': 1.5},
    # The fleet's defaults until the seed check joined them (7 Dec 2026): the candidate + the direction
    # check + the fit check.
    'defaults': DEFAULTS_BEFORE,
    # The fleet's defaults (config/experiments/quantity_skew_defended.yaml): `defaults` + the seed check
    # (seed_check.py): a cluster whose members' reported seed losses exceed 1.5× the other clusters' is
    # refused and its coordinator never top-level again.
    'seed_check': SEED_CHECK,
    # The same defences under eq. 8's `members_only` reading (FEDERATION): a coordinator's own model,
    # its seed, is not averaged into its cluster, so a poisoned seed reaches the cluster model only
    # as the members' start.
    'members_only': SEED_CHECK,
    'members_only_none': {},
    # The same, the seed check only measuring (it refuses nothing fitting under 1000× its reference):
    # the honest clusters' seed-check values under this reading without the re-plans a refusal starts.
    'members_only_measured': {**SEED_CHECK, 'seed_ratio': 1000.0},
    # ... and with the ρ those measurements chose on held-out seeds 10 and 11 (docs/security-measurements.md).
    'members_only_rho2': {**SEED_CHECK, 'seed_ratio': 2.0},
    # `seed_check` + the step check (step_check.py): a cluster model that follows the fleet's last step
    # less than a quarter as well as the other clusters', in two rounds running, is refused and its
    # coordinator never top-level again.
    'step_check': STEP_CHECK,
    'all': {'norm_bound': BOUND, 'aggregator': 'trimmed_mean', 'trim_fraction': 0.34, 'check_members': True,
            'audit_rate': 0.3, 'check_claims': True},
}
# Columns that also read eq. 8 otherwise than the protocol (federation settings beside their defences).
# A column's cells are paired with the clean run of the undefended column of the same reading
# (`undefended`): the fault-free run of the protocol it runs.
FEDERATION = {name: {'tier_aggregate': 'members_only'}
              for name in ('members_only', 'members_only_none', 'members_only_measured', 'members_only_rho2')}
PROTOCOL = 'none'   # the undefended column of the protocol's reading: every other reading's cells also pair with it
# Not a defence but a reference column: no defence, and the row's attacking robot (as its undefended
# run resolved it) crashed at the start of every round, so it sends nothing: what a defence that
# refuses that robot in every round leaves.
OFFLINE = 'offline'
OFFLINE_MEANS = 'no defence; the attacking robot crashed at the start of every round'
# Another reference column, for any row: no defence, and the row's attacking robot (as the same
# seed's run in another column resolved it) left out of the fleet, its samples out of the partition.
# A top-level attacker's data cannot be left out by `offline` (its whole cluster would go with it);
# this is what a defence that catches it before round 0 and refuses it in every round could reach.
WITHOUT = 'without'
WITHOUT_MEANS = 'no defence; the attacking robot left out of the partition (six robots)'
REFERENCES = {OFFLINE: OFFLINE_MEANS, WITHOUT: WITHOUT_MEANS}


QUICK = {'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 40, 'norm': 'batch'},
         'data': {'test_samples': 1000, 'max_train_samples': 300}}
STUDY = Path(__file__).resolve().parents[1] / 'config/studies/quantity_skew.yaml'


@functools.cache   # config_for builds every run's config; the study file is read once
def preset_settings(preset: str) -> dict:
    """`quick`: the table's own small setting; `cpu`: the powered study's cpu preset (model, data sizes,
    precision), read from its config so the two cannot drift apart."""
    if preset == 'quick':
        return QUICK
    overrides = yaml.safe_load(STUDY.read_text())['presets'][preset]['overrides']
    return {**overrides, 'data': {k: v for k, v in overrides['data'].items() if k != 'root'}}


def undefended(column: str) -> str:
    """The column without defences that reads eq. 8 as `column` does ('none' for the protocol's reading
    and for the reference columns)."""
    reading = FEDERATION.get(column)
    return next(c for c, settings in DEFENCES.items() if not settings and FEDERATION.get(c) == reading)


def config_for(data: str, defence: str, seed: int, rounds: int, preset: str = 'quick') -> dict:
    settings = preset_settings(preset)
    return {'extends': str(Path('config/experiments/quantity_skew.yaml').resolve()), 'name': 'attack_table',
            'seed': seed, 'methods': ['mtf_avg'], **settings, 'data': {'root': data, **settings['data']},
            'federation': {'rounds': rounds, **FEDERATION.get(defence, {})}, 'defences': DEFENCES[defence]}


def run_one(work: Path, data: str, rounds: int, preset: str, defence: str, attack: str, seed: int,
            offline: str | None = None, without: str | None = None) -> dict:
    """One run (resumed if stored): `attack` under `defence`, or with `offline` the robot id that is
    offline in every round (the OFFLINE column of row `attack`), or with `without` the robot id left
    out of the clean undefended run's partition (the WITHOUT column)."""
    if offline:
        out, wanted = work / OFFLINE / offline / f'seed_{seed}', config_for(data, 'none', seed, rounds, preset)
        more = [arg for index in range(rounds) for arg in ('--crash', f'{offline}:{index}')]
    elif without:
        out, wanted = work / WITHOUT / without / f'seed_{seed}', config_for(data, 'none', seed, rounds, preset)
        manifest = out / 'manifest.json'
        if not manifest.exists():
            run_one(work, data, rounds, preset, 'none', 'clean', seed)
            partition = json.loads((work / 'none' / 'clean' / f'seed_{seed}' / 'partition.json').read_text())
            del partition['robots'][without]
            out.mkdir(parents=True, exist_ok=True)
            manifest.write_text(json.dumps(partition, indent=1) + '\n')
        more = ['--manifest', str(manifest)]
    else:
        out = work / defence / attack.replace(':', '_') / f'seed_{seed}'
        wanted = config_for(data, defence, seed, rounds, preset)
        more = [] if attack == 'clean' else ['--attack', attack]
    results, config = out / 'results.json', out / 'config.yaml'
    if results.exists() and yaml.safe_load(config.read_text()) != wanted:
        raise SystemExit(f'{config}: stored with other settings (data, preset, rounds or defence); use another --work')
    if not results.exists():
        out.mkdir(parents=True, exist_ok=True)
        config.write_text(yaml.safe_dump(wanted))
        subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'experiment', '--config', str(config),
                        '--out', str(out), '--no-progress', *more], check=True, stdout=subprocess.DEVNULL)
    stored = json.loads(results.read_text())
    run = stored['methods']['mtf_avg']
    accuracy = run['accuracy_per_round']
    decided = run.get('defences_per_round', [])
    counts = {k: sum(d.get(k, 0) for d in decided) for k in ('clipped', 'rejected', 'implausible', 'audit_mismatch',
                                                                'member_missing', 'weight_capped')}
    # By round: each decision about one robot's model (a clip, a refusal with its cosine, loss or norm
    # and bound) and what each direction and fit check measured (every judged model's cosine or loss).
    about_robots = [[e for e in d.get('events', []) if e.get('robot_id') or 'cosines' in e or 'losses' in e]
                    for d in decided]
    return {'defence': defence, 'attack': attack, 'seed': seed,
            'final_accuracy': accuracy[-1], 'accuracy_per_round': accuracy,
            'attackers': [a['robot'] for a in stored['attacks']], 'offline': offline, 'without': without,
            'decisions': counts, 'decisions_per_round': about_robots}


def offline_runs(pool, work: Path, data: str, rounds: int, preset: str, attacks: list[str],
                 seeds: list[int]) -> list[dict]:
    """The OFFLINE cells: for each row and seed, the robot its undefended run attacked with, offline in
    every round (the clean row's cell is the clean run). Rows attacking the same robot share one run."""
    rows = [(a, s) for a in attacks for s in seeds]
    attacked = list(pool.map(lambda job: run_one(work, data, rounds, preset, 'none', *job), rows))
    wanted = sorted({(r['attackers'][0], r['seed']) for r in attacked if r['attackers']})
    runs = pool.map(lambda job: run_one(work, data, rounds, preset, OFFLINE, 'clean', job[1], offline=job[0]), wanted)
    offline = dict(zip(wanted, runs))
    return [{**(offline[r['attackers'][0], r['seed']] if r['attackers'] else r), 'defence': OFFLINE,
             'attack': r['attack']} for r in attacked]


def without_runs(pool, work: Path, data: str, rounds: int, preset: str, runs: list[dict]) -> list[dict]:
    """The WITHOUT cells: for each row and seed that `runs` (the other columns) hold, the run without
    the robot they attacked with (the clean row's cell is the clean run). One run per robot and seed."""
    named = {(r['attack'], r['seed']): r for r in runs}
    wanted = sorted({(r['attackers'][0], r['seed']) for r in named.values() if r['attackers']})
    without = dict(zip(wanted, pool.map(
        lambda job: run_one(work, data, rounds, preset, WITHOUT, 'clean', job[1], without=job[0]), wanted)))
    clean = {s: run_one(work, data, rounds, preset, 'none', 'clean', s) for s in {s for _, s in named}}
    return [{**(without[r['attackers'][0], s] if r['attackers'] else clean[s]), 'defence': WITHOUT, 'attack': attack}
            for (attack, s), r in sorted(named.items())]


def difference_text(diff: dict) -> str:
    interval = '' if diff['ci95_pp'] is None else f' [{diff["ci95_pp"][0]:+.1f}, {diff["ci95_pp"][1]:+.1f}]'
    return f'{diff["mean_pp"]:+.1f}{interval}'


def cell_text(cell: dict) -> str:
    """Mean final accuracy (%) and the paired difference from the clean run with its interval (none for
    one seed); for a column of another reading also from the protocol's clean run; with --versus, also
    the paired difference from that column's run of the same row, and with --before from the earlier
    table's."""
    accuracy = 100 * sum(cell['final_accuracy']) / len(cell['final_accuracy'])
    than = ''.join(f'; vs {cell[key].get("column", key)} {difference_text(cell[key])}'
                   for key in ('vs_clean_protocol', 'versus', 'before') if key in cell)
    return f'{accuracy:.1f} ({difference_text(cell["vs_clean_undefended"])}{than})'


def markdown(cells: list[dict], attacks: list[str], defences: list[str]) -> str:
    """Attacks down, defences across: mean final accuracy, and the paired difference from the clean,
    undefended run with its 95 % interval (points)."""
    lines = ['| attack | ' + ' | '.join(defences) + ' |', '|---|' + '---|' * len(defences)]
    for attack in attacks:
        row = []
        for defence in defences:
            cell = next(c for c in cells if c['attack'] == attack and c['defence'] == defence)
            row.append(cell_text(cell))
        lines.append(f'| {attack} | ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def table_rounds(data: str, seed: int, rounds: int, preset: str = 'quick', attacks: Sequence[str] = ()):
    """The table's undefended MTF-Grasp-Avg run of `seed` with `attacks`, to step round by round (the
    margin benchmarks): (config, workload, adversary, the experiment's own FederatedRounds)."""
    mapping = config_for(data, 'none', seed, rounds, preset)
    with tempfile.TemporaryDirectory() as directory:   # `extends:` is resolved by the file loader
        path = Path(directory) / 'config.yaml'
        path.write_text(yaml.safe_dump(mapping))
        config = load_experiment_config(path)
    torch.set_num_threads(config.torch_threads)
    workload = prepare_workload(config)
    adversary = resolve_attacks([parse_attack(a) for a in attacks], config=config, workload=workload)
    runner = FederatedRounds('mtf_avg', config=config, workload=workload, crashes={}, adversary=adversary,
                             wire=Wire(spec=config.model, dtype=config.federation.encoding, ledger=TrafficLedger()))
    return config, workload, adversary, runner


def attacked(data: str, seed: int, rounds: int, preset: str, attack: str):
    """`table_rounds` under one table row (`clean`: no attack): (config, workload, adversary, runner,
    the attacking robots' ids)."""
    config, workload, adversary, runner = table_rounds(data, seed, rounds, preset, [] if attack == 'clean' else [attack])
    return config, workload, adversary, runner, {a.robot for a in adversary.attacks}


def stepped(runner, config, rounds: int):
    """Each round of `runner` from the initial model: (round, its plan, the model each robot sent, the
    global model the round started from)."""
    state = initial_state(config)
    for index in range(rounds):
        sent: dict[str, dict] = {}
        start = state
        state, plan, _ = runner.step(state, index, on_update=lambda u: sent.__setitem__(u.robot_id, u.state))
        yield index, plan, sent, start


def margin_records(doc: str, per_run, *, seeds: str, attacks: str,
                   stored: str) -> tuple[argparse.Namespace, list[dict]]:
    """The margin benchmarks' command line (data, preset, seeds, rounds, rows, --out; `seeds` and
    `attacks` the defaults) and the records `per_run(data, preset, seed, rounds, attack)` gives for
    every row and seed, or with --records those a previous --out stored under `stored`."""
    parser = argparse.ArgumentParser(description=doc.split('\n')[0])
    parser.add_argument('--data', required=True)
    parser.add_argument('--preset', choices=('quick', 'cpu'), default='cpu')
    parser.add_argument('--seeds', default=seeds)
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--attacks', default=attacks)
    parser.add_argument('--out', required=True)
    parser.add_argument('--records', help='summarise the records of a previous --out instead of running')
    args = parser.parse_args()
    if args.records:
        return args, json.loads(Path(args.records).read_text())[stored]
    return args, [r for attack in args.attacks.split(',') for seed in seeds_of(args.seeds)
                  for r in per_run(args.data, args.preset, seed, args.rounds, attack)]


def seeds_of(text: str) -> list[int]:
    first, _, last = text.partition('-')
    return list(range(int(first), int(last or first) + 1))


def earlier_runs(parser, path: str, *, preset: str, rounds: int) -> dict[tuple[str, str, int], float]:
    """The final accuracy of each (column, row, seed) an earlier table's JSON at `path` holds; a parser
    error when it was measured on another CPU, preset or number of rounds (nothing to pair with)."""
    table = json.loads(Path(path).read_text())
    here = describe_machine('cpu', 'fp32')['cpu']
    differs = [f'{name} {table[name]!r}, not {mine!r}' for name, mine in
               (('cpu', here), ('preset', preset), ('rounds', rounds)) if table[name] != mine]
    if differs:
        parser.error(f'--before {path}: measured with {"; ".join(differs)}')
    return {(r['defence'], r['attack'], r['seed']): r['final_accuracy'] for r in table['runs']}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', required=True)
    parser.add_argument('--seeds', default='0-2')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--work', required=True, help='run directory (resumable)')
    parser.add_argument('--out', required=True)
    parser.add_argument('--defences', default=','.join(DEFENCES))
    parser.add_argument('--attacks', default=','.join(ATTACKS),
                        help=f'rows (the clean run is always among them); also {", ".join(MORE_ROWS)}')
    parser.add_argument('--rounds', type=int, default=5, help='rounds of every run')
    parser.add_argument('--preset', choices=('quick', 'cpu'), default='quick',
                        help="quick: GG-CNN2 on 40 px depth, 300/1000 scenes; cpu: the study's cpu preset")
    parser.add_argument('--versus', help='one of the --defences: every other column also paired with it, row by row')
    parser.add_argument('--before', help="an earlier table's --out (the code before a change, the same CPU, preset "
                                         'and rounds): every cell also paired with its runs of the same seeds')
    args = parser.parse_args()
    seeds, work, defences = seeds_of(args.seeds), Path(args.work), args.defences.split(',')
    asked = args.attacks.split(',')
    unknown = sorted(set(asked) - set(ROWS)) + sorted(set(defences) - {*DEFENCES, *REFERENCES})
    if unknown:
        parser.error(f'unknown attack or defence: {", ".join(unknown)}')
    if args.versus and args.versus not in defences:
        parser.error(f'--versus {args.versus}: not among --defences {args.defences}')
    if WITHOUT in defences and not set(defences) & set(DEFENCES):
        parser.error(f'{WITHOUT}: needs another column, whose runs name each row\'s attacking robot')
    if OFFLINE in defences and any(a != 'clean' and not a.startswith('low:') for a in asked):
        parser.error(f'{OFFLINE}: only for low:K rows (an offline coordinator takes its whole cluster with it)')
    attacks = [a for a in ROWS if a == 'clean' or a in asked]
    before = earlier_runs(parser, args.before, preset=args.preset, rounds=args.rounds) if args.before else {}
    jobs = [(d, a, s) for d in defences if d in DEFENCES for a in attacks for s in seeds]
    with ThreadPoolExecutor(args.workers) as pool:
        runs = list(pool.map(lambda job: run_one(work, args.data, args.rounds, args.preset, *job), jobs))
        if WITHOUT in defences:  # after the other columns' runs, which name each row's robot
            runs += without_runs(pool, work, args.data, args.rounds, args.preset, runs)
        if OFFLINE in defences:  # after the undefended runs, which name each row's robot
            runs += offline_runs(pool, work, args.data, args.rounds, args.preset, attacks, seeds)
    # Every cell is paired with the clean, undefended run of its seed and reading, whichever columns were
    # asked for; a column of another reading also with the protocol's (PROTOCOL), the fault-free fleet
    # of the paper's eq. 8.
    clean = {(c, s): run_one(work, args.data, args.rounds, args.preset, c, 'clean', s)['final_accuracy']
             for c in {PROTOCOL, *map(undefended, defences)} for s in seeds}
    cells = []
    for defence in defences:
        fault_free = undefended(defence)
        for attack in attacks:
            mine = [r for r in runs if r['defence'] == defence and r['attack'] == attack]
            finals = [r['final_accuracy'] for r in mine]
            diff = paired_difference(finals, [clean[fault_free, r['seed']] for r in mine])
            cells.append({'defence': defence, 'attack': attack, 'final_accuracy': finals,
                          'vs_clean_undefended': diff, 'clean_undefended': fault_free,
                          'decisions': {k: sum(r['decisions'][k] for r in mine) for k in mine[0]['decisions']}})
            if fault_free != PROTOCOL:
                cells[-1]['vs_clean_protocol'] = {'column': f'{PROTOCOL} clean', **paired_difference(
                    finals, [clean[PROTOCOL, r['seed']] for r in mine])}
            if args.versus and defence != args.versus:
                theirs = {r['seed']: r['final_accuracy'] for r in runs
                          if r['defence'] == args.versus and r['attack'] == attack}
                cells[-1]['versus'] = {'column': args.versus,
                                       **paired_difference(finals, [theirs[r['seed']] for r in mine])}
            earlier = [before.get((defence, attack, r['seed'])) for r in mine]
            if before and None not in earlier:
                cells[-1]['before'] = paired_difference(finals, earlier)
            print(f'{defence:>12} {attack:>24}: {cell_text(cells[-1])}', flush=True)
    Path(args.out).with_suffix('.md').write_text(markdown(cells, attacks, defences))
    result = {'command': ' '.join(sys.argv), 'cpu': describe_machine('cpu', 'fp32')['cpu'], 'seeds': seeds,
              'rounds': args.rounds, 'preset': args.preset,
              'defences': {k: REFERENCES.get(k, DEFENCES.get(k)) for k in defences},
              'federation': {k: FEDERATION[k] for k in defences if k in FEDERATION},
              'cells': cells, 'runs': runs}
    Path(args.out).write_text(json.dumps(result, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
