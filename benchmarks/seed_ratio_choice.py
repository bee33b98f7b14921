"""Which seed-check ratio ρ a column's measuring runs support: the first refusal each candidate ρ makes.

A column whose seed check only measures (the attack table's `members_only_measured`: ρ = 1000)
records, in every `seed_checked` event, each judged cluster's value and its reference. Until a
candidate ρ's first refusal, a run under that ρ is the measuring run decision for decision, so that
first refusal (round, coordinator, value over reference, the row's attacker or an honest robot) can
be read off the events of the attack table's --out file. Also the honest clusters' largest value
per round and the attackers' values, as docs/security-measurements.md quotes them.

    python benchmarks/seed_ratio_choice.py --table docs/results/attack_table_cpu_preset_members_only_measured_heldout.json \
        --ratios 1.5,1.75,2,2.25 --out docs/results/seed_ratio_choice_heldout.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def excesses(events: list[dict]) -> dict[str, float]:
    """Each judged cluster's seed-check value over its reference in one round's events."""
    return {c: value / event['references'][c] for event in events if event['reason'] == 'seed_checked'
            for c, value in event['losses'].items() if c in event.get('references', {})}


def first_refusal(rounds: list[dict[str, float]], ratio: float, attackers: set[str]) -> dict | None:
    """The first cluster `ratio` would refuse (the worst over it), or None."""
    for index, values in enumerate(rounds):
        over = [c for c in values if values[c] > ratio]
        if over:
            worst = max(over, key=values.get)
            return {'round': index, 'coordinator': worst, 'excess': values[worst], 'attacker': worst in attackers}
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--table', required=True, help="an attack table's --out JSON of a measuring column")
    parser.add_argument('--ratios', default='1.5,1.75,2,2.25')
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    table = json.loads(Path(args.table).read_text())
    ratios = [float(x) for x in args.ratios.split(',')]
    runs, honest_max, attacker_values = [], {}, {}
    for run in table['runs']:
        attackers = set(run['attackers'])
        rounds = [excesses(events) for events in run['decisions_per_round']]
        for index, values in enumerate(rounds):
            for c, x in values.items():
                if c in attackers:
                    attacker_values.setdefault(run['attack'], {}).setdefault(index, []).append(x)
                else:
                    honest_max[index] = max(honest_max.get(index, 0.0), x)
        runs.append({'defence': run['defence'], 'attack': run['attack'], 'seed': run['seed'],
                     'first_refusal': {str(r): first_refusal(rounds, r, attackers) for r in ratios}})
    summary = {str(r): {'honest_first': sum(1 for x in runs if (f := x['first_refusal'][str(r)]) and not f['attacker']),
                        'attacker_first': sum(1 for x in runs if (f := x['first_refusal'][str(r)]) and f['attacker']),
                        'none': sum(1 for x in runs if x['first_refusal'][str(r)] is None)} for r in ratios}
    for run in runs:
        print(f"{run['attack']:24s} seed {run['seed']:3d}  " + ' | '.join(
            f'ρ={r}: ' + ('-' if (f := run['first_refusal'][r]) is None else
                          f"r{f['round']} {'attacker' if f['attacker'] else 'honest'} {f['excess']:.2f}")
            for r in run['first_refusal']))
    print(json.dumps(summary))
    Path(args.out).write_text(json.dumps({
        'command': ' '.join(sys.argv), 'table': args.table, 'cpu': table['cpu'], 'summary': summary,
        'honest_max_per_round': honest_max, 'attacker_values': attacker_values, 'runs': runs}, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
