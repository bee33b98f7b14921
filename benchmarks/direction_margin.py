"""How far honest updates clear the direction check's threshold: a clean run's cosines.

The direction check (`defences.direction_z`) refuses an update whose cosine with the sum of the
other updates of its aggregation is below z/√d. It can be trusted where honest updates clear that
threshold by a wide margin. For each seed, this runs the attack table's clean MTF-Grasp-Avg run
(benchmarks/attack_table.py: n = 7, j = 2, GG-CNN2 on 40 px depth, 300 training scenes, 5 rounds;
`--rounds` for more) round by round (the experiment's own `FederatedRounds`, no defences) and
records, for every cluster of 3 or more members, each member's cosine with the others' sum
(robust.direction_check's cosines: what the check measures), in units of 1/√d as well; and for
every cluster of 2 or more members, the cosine of each pair of members (what the check measures in
a cluster of 2). `by_round` sums each round up over the seeds: the smallest and median margins.

    python benchmarks/direction_margin.py --data data/simgrasp_1300_depth40 --seeds 0-4 \
        --out docs/results/direction_margin.json
"""
from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attack_table import seeds_of, stepped, table_rounds  # noqa: E402  (the table's clean setting)

from mtf_grasp.federated.robust import direction_check  # noqa: E402
from mtf_grasp.grasping.device import describe_machine  # noqa: E402


def clusters_of(data: str, seed: int, rounds: int) -> list[dict]:
    config, _, _, runner = table_rounds(data, seed, rounds)
    records = []
    for index, plan, sent, _ in stepped(runner, config, rounds):
        for coordinator, members in plan.clusters.items():
            if len(members) < 2:
                continue   # the check judges 2 or more non-zero updates (the coordinator's own Δ is 0)
            # The cosines do not depend on z; z = 0 only completes the call.
            pairs = {f'{a}+{b}': direction_check([sent[a], sent[b]], sent[coordinator], z=0.0)
                     for a, b in itertools.combinations(members, 2)}
            record = {'seed': seed, 'round': index, 'coordinator': coordinator, 'members': len(members),
                      'pair_in_units_of_one_over_root_d': {k: v.cosines[0] / v.unit for k, v in pairs.items()}}
            if len(members) >= 3:
                verdict = direction_check([sent[m] for m in members], sent[coordinator], z=0.0)
                record.update(cosines=dict(zip(members, verdict.cosines)),
                              in_units_of_one_over_root_d={m: c / verdict.unit for m, c in zip(members, verdict.cosines)
                                                           if c is not None})
            records.append(record)
        print(f'seed {seed} round {index}: ' + ', '.join(
            f'{r["coordinator"]}: min pair {min(r["pair_in_units_of_one_over_root_d"].values()):.1f}/√d'
            for r in records if r['round'] == index and r['seed'] == seed), flush=True)
    return records


def margins_in_round(index: int, records: list[dict]) -> dict:
    """One round over all seeds, in units of 1/√d: members of clusters of 3 or more (each one's cosine
    with the others' sum, judged against +z) and clusters of exactly 2 (their pair's cosine, judged
    against −z)."""
    members = [u for r in records for u in r.get('in_units_of_one_over_root_d', {}).values()]
    pairs = [u for r in records if r['members'] == 2 for u in r['pair_in_units_of_one_over_root_d'].values()]
    row = {'round': index, 'member_updates': len(members), 'two_member_clusters': len(pairs)}
    if members:
        row.update(member_min=min(members), member_median=statistics.median(members),
                   members_below_3=sum(u < 3 for u in members))
    if pairs:
        row.update(pair_min=min(pairs), pair_median=statistics.median(pairs),
                   pairs_below_minus_3=sum(u < -3 for u in pairs))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', required=True)
    parser.add_argument('--seeds', default='0-4')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    records = [r for seed in seeds_of(args.seeds) for r in clusters_of(args.data, seed, args.rounds)]
    units = [u for r in records for u in r.get('in_units_of_one_over_root_d', {}).values()]
    pairs = [u for r in records for u in r['pair_in_units_of_one_over_root_d'].values()]
    summary = {'clusters': sum('cosines' in r for r in records), 'member_updates': len(units),
               'min_in_units_of_one_over_root_d': min(units), 'below_3': sum(u < 3 for u in units),
               'pair_clusters': len(records), 'pairs': len(pairs), 'pair_min_in_units_of_one_over_root_d': min(pairs),
               'pair_median_in_units_of_one_over_root_d': statistics.median(pairs),
               'pairs_below_3': sum(u < 3 for u in pairs)}
    print(json.dumps(summary))
    by_round = [margins_in_round(index, [r for r in records if r['round'] == index]) for index in range(args.rounds)]
    for row in by_round:
        print(json.dumps(row))
    Path(args.out).write_text(json.dumps({'command': ' '.join(sys.argv), 'cpu': describe_machine('cpu', 'fp32')['cpu'],
                                          'summary': summary, 'by_round': by_round, 'clusters': records},
                                         indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
