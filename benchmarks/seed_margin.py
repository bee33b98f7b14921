"""How a coordinator's seed fits its members' own data, against the global model it was trained from.

A top-level robot trains the seed its members fine-tune; a dishonest one (`top:1:sign_flip`, `noise`,
`rotated_labels`) hands them a poisoned start, and every defence inside its cluster is run by itself.
Its members are the only honest robots that see the seed. For each seed and attack this runs the
attack table's MTF-Grasp-Avg setting undefended, round by round (the experiment's own
`FederatedRounds`), and scores, on each member's own data, the seed it received and the global model
of the round (both as received): `ratio` = loss(seed) / loss(global). An honest seed trained on
similar data should not fit a member's data much worse than the model it started from; `summary`
gives, per round, the largest honest ratio and the poisoned seeds': where a member could tell.
`seed_check` scores the same records as the server's seed check would (seed_check.py: each judged
cluster's value over its reference, from the seed losses alone), per attack, seed and round.

    python benchmarks/seed_margin.py --data data/simgrasp_1300_rgbd64 --preset cpu --rounds 10 --seeds 10-11 \
        --attacks top:1:sign_flip,top:1:noise,top:1:rotated_labels,clean --out docs/results/seed_margin.json

`--records FILE` summarises a previous --out's records instead of running (the same --rounds and --attacks).
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attack_table import attacked, margin_records, stepped  # noqa: E402  (the table's setting)

from mtf_grasp.federated.fit_check import loss_on  # noqa: E402
from mtf_grasp.federated.seed_check import seed_check  # noqa: E402
from mtf_grasp.grasping.device import describe_machine  # noqa: E402


def ratios_of(data: str, preset: str, seed: int, rounds: int, attack: str) -> list[dict]:
    config, workload, adversary, runner, bad = attacked(data, seed, rounds, preset, attack)
    if config.continuation_epochs('mtf_avg'):   # then a coordinator's sent model is not its seed
        raise SystemExit('seed_margin reads each seed as its coordinator\'s model: coordinator_epochs must be seed_only')
    records = []
    for index, plan, sent, start in stepped(runner, config, rounds):
        received = runner.wire.as_received(start)
        for coordinator, members in plan.clusters.items():
            seed_state = runner.wire.as_received(sent[coordinator])   # the seed, as its members received it
            for member in members:
                loss = loss_on(config.model, adversary.data(workload.dataset, member, index), workload.indices[member])
                seed_loss, global_loss = loss(seed_state), loss(received)
                records.append({'attack': attack, 'seed': seed, 'round': index, 'coordinator': coordinator,
                                'member': member, 'seed_loss': seed_loss, 'global_loss': global_loss,
                                'ratio': seed_loss / global_loss, 'poisoned': coordinator in bad,
                                'member_is_attacker': member in bad})
        print(f'{attack} seed {seed} round {index}: ' + '; '.join(
            f'{r["coordinator"]}{"*" if r["poisoned"] else ""}→{r["member"]} {r["ratio"]:.2f}'
            for r in records if r['round'] == index and r['seed'] == seed), flush=True)
    return records


def seed_check_rows(records: list[dict]) -> list[dict]:
    """Per attack, seed and round: each judged cluster's value over its reference under the seed
    check's rule (what it compares with seed_ratio), and which coordinator's seed was poisoned."""
    reports, poisoned = defaultdict(lambda: defaultdict(list)), {}
    for r in records:
        run = (r['attack'], r['seed'], r['round'])
        reports[run][r['coordinator']].append(r['seed_loss'])
        if r['poisoned']:
            poisoned[run] = r['coordinator']
    rows = []
    for (attack, seed, index), clusters in sorted(reports.items()):
        verdict = seed_check(clusters, ratio=1.5)
        rows.append({'attack': attack, 'seed': seed, 'round': index, 'poisoned': poisoned.get((attack, seed, index)),
                     'excess': {c: verdict.values[c] / verdict.references[c] for c in verdict.references}})
    return rows


def seed_check_summary(rows: list[dict]) -> dict:
    honest = [x for r in rows for c, x in r['excess'].items() if c != r['poisoned']]
    poisoned = defaultdict(list)
    for r in rows:
        if r['poisoned'] in r['excess']:
            poisoned[f"{r['attack']} round {r['round']}"].append(r['excess'][r['poisoned']])
    return {'honest_judgements': len(honest), 'honest_max': max(honest, default=None),
            'poisoned': {k: sorted(v) for k, v in poisoned.items()}}


def main() -> int:
    args, records = margin_records(__doc__, ratios_of, seeds='10-11',
                                   attacks='top:1:sign_flip,top:1:noise,top:1:rotated_labels,clean', stored='members')
    judged = [r for r in records if not r['member_is_attacker']]   # honest members judging a seed
    summary = []
    for index in range(args.rounds):
        mine = [r for r in judged if r['round'] == index]
        honest = [r['ratio'] for r in mine if not r['poisoned']]
        summary.append({'round': index, 'honest_seeds_max': max(honest, default=None), 'honest_judgements': len(honest),
                        'poisoned': {a: sorted(r['ratio'] for r in mine if r['poisoned'] and r['attack'] == a)
                                     for a in args.attacks.split(',') if a != 'clean'}})
    checked = seed_check_rows(records)
    margins = seed_check_summary(checked)
    print(json.dumps({'summary': summary, 'seed_check': margins}))
    cpu = (json.loads(Path(args.records).read_text())['cpu'] if args.records   # where the records were measured
           else describe_machine('cpu', 'fp32')['cpu'])
    Path(args.out).write_text(json.dumps({'command': ' '.join(sys.argv), 'cpu': cpu,
                                          'summary': summary, 'seed_check': margins,
                                          'seed_check_rounds': checked, 'members': records}, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
