"""How far honest members stay under the fit check's ratio, and how far an attacker goes over it.

The fit check (`defences.fit_ratio`, federated/fit_check.py) refuses a member's model whose mean loss
on its coordinator's own data exceeds the ratio times the median of the other members' losses. For
each seed and attack this runs the attack table's MTF-Grasp-Avg setting undefended, round by round
(the experiment's own `FederatedRounds`), scores every member model of every cluster of 2 or more on
the coordinator's data exactly as the check does, and records each member's ratio to its reference
(the median of the others'), marking the attacker. `summary` gives, per round, the largest honest
ratio and the attacker's, over the seeds: where a ratio separates them.

It also scores the global model the round started from on the same data (`global_loss`), and gives
the ratios against a reference that cannot fall below it (`floored_ratios`: loss / max(median of
the others', global_loss)): a candidate rule for pairs, where a partner whose model fits the
coordinator's data unusually well (the seed sent back, or noise around it) lowers the reference.
Measured and not adopted (docs/security-measurements.md): the floor binds only in the first rounds, where it
hides a poisoner for a round longer.

    python benchmarks/fit_margin.py --data data/simgrasp_1300_rgbd64 --preset cpu --rounds 10 \
        --seeds 10-11 --attacks clean,low:1:rotated_labels --out docs/results/fit_margin.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attack_table import attacked, margin_records, stepped  # noqa: E402  (the table's setting)

from mtf_grasp.federated.fit_check import fit_check, loss_on  # noqa: E402
from mtf_grasp.grasping.device import describe_machine  # noqa: E402


def ratios_of(data: str, preset: str, seed: int, rounds: int, attack: str) -> list[dict]:
    config, workload, adversary, runner, bad = attacked(data, seed, rounds, preset, attack)
    records = []
    for index, plan, sent, start in stepped(runner, config, rounds):
        for coordinator, members in plan.clusters.items():
            if len(members) < 2:
                continue   # the check judges members against each other
            loss = loss_on(config.model, adversary.data(workload.dataset, coordinator, index),
                           workload.indices[coordinator])
            losses = [loss(sent[m]) for m in members]
            global_loss = loss(runner.wire.as_received(start))   # as the coordinator received it
            # The ratios do not depend on the threshold; any ratio above 1 completes the call.
            references = fit_check(losses, ratio=2.0).references
            records.append({'attack': attack, 'seed': seed, 'round': index, 'coordinator': coordinator,
                            'losses': dict(zip(members, losses)), 'global_loss': global_loss,
                            'ratios': {m: x / r for m, x, r in zip(members, losses, references)},
                            'floored_ratios': {m: x / max(r, global_loss)
                                               for m, x, r in zip(members, losses, references)},
                            'attackers': sorted(bad & set(members))})
        print(f'{attack} seed {seed} round {index}: ' + '; '.join(
            ' '.join(f'{m}{"*" if m in r["attackers"] else ""} {x:.2f}' for m, x in r['ratios'].items())
            for r in records if r['round'] == index and r['seed'] == seed), flush=True)
    return records


def by_round(records: list[dict], rounds: int, key: str) -> list[dict]:
    rows = []
    for index in range(rounds):
        mine = [r for r in records if r['round'] == index]
        honest = [x for r in mine for m, x in r[key].items() if m not in r['attackers']]
        attackers = [x for r in mine for m, x in r[key].items() if m in r['attackers']]
        rows.append({'round': index, 'honest_members': len(honest), 'honest_max': max(honest, default=None),
                     'attacker_ratios': attackers})
    return rows


def summarised(records: list[dict], rounds: int, key: str) -> dict:
    honest = [x for r in records for m, x in r[key].items() if m not in r['attackers']]
    return {'clusters': len(records), 'honest_member_models': len(honest), 'honest_max': max(honest),
            'honest_over_1_5': sum(x > 1.5 for x in honest), 'by_round': by_round(records, rounds, key)}


def main() -> int:
    args, records = margin_records(__doc__, ratios_of, seeds='10-11', attacks='clean,low:1:rotated_labels',
                                   stored='clusters')
    summary = summarised(records, args.rounds, 'ratios')
    floored = summarised(records, args.rounds, 'floored_ratios')
    print(json.dumps({'summary': summary, 'floored_summary': floored}))
    Path(args.out).write_text(json.dumps({'command': ' '.join(sys.argv), 'cpu': describe_machine('cpu', 'fp32')['cpu'],
                                          'summary': summary, 'floored_summary': floored, 'clusters': records},
                                         indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
