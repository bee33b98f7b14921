"""How far each seed, and each cluster model, follows the fleet's last step: can a server tell a noised seed?

A top-level robot that sends its members a seed noised to an honest norm (`top:1:noise`) passes the
seed check (its seed fits its members' data about as well as an honest one; seed_margin.py) and
every check inside its cluster runs at itself. What it cannot hide is the direction: Gaussian noise
is at chance with any honest direction, while an honest seed is et epochs of training from the
round's global model. For each seed and attack this runs the attack table's MTF-Grasp-Avg setting
undefended, round by round (the experiment's own `FederatedRounds`), and records for every
coordinator, in units of 1/√d (d the moved coordinates, the direction check's unit):
- `seed_update`: the cosine of its seed's update (seed − the round's global model, as received) with the
  fleet's last step (the global model's move into the round, what a server holds);
- `with_coordinator`, `members_only`: the same for its cluster model under each reading of eq. 8
  (the data-weighted mean of the models it would aggregate, undefended), what a server receives;
- `other_cluster`: the cosine of its `with_coordinator` cluster update with the other cluster's;
- `without_own_share`: its `with_coordinator` cluster update against the last step less its own
  cluster's share of that step (its data-weighted update of the round before, when it coordinated
  then too): whether a cluster that holds most of the data only follows its own last move.
`summary` gives, per round and quantity, the honest clusters' least value and the poisoned ones'.

    python benchmarks/seed_direction_margin.py --data data/simgrasp_1300_rgbd64 --preset cpu --rounds 10 \
        --seeds 10-11 --attacks top:1:noise,top:1:sign_flip,top:1:rotated_labels,clean \
        --out docs/results/seed_direction_margin.json

`--records FILE` summarises a previous --out's records instead of running.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attack_table import attacked, margin_records, stepped  # noqa: E402  (the table's setting)

from mtf_grasp.federated.robust import global_step, is_moved  # noqa: E402
from mtf_grasp.grasping.device import describe_machine  # noqa: E402

QUANTITIES = ('seed_update', 'with_coordinator', 'members_only', 'other_cluster', 'without_own_share')


def flat_update(state, reference) -> torch.Tensor:
    return torch.cat([(state[k].to(torch.float64) - v.to(torch.float64)).flatten()
                      for k, v in reference.items() if is_moved(k, v)])


def in_units(a: torch.Tensor, b: torch.Tensor) -> float:
    """cos(a, b)·√d: how many standard deviations of a random direction's cosine."""
    return float(a @ b / (a.norm() * b.norm())) * math.sqrt(a.numel())


def mean_update(updates: dict[str, torch.Tensor], counts: dict[str, int]) -> torch.Tensor:
    total = sum(counts[r] for r in updates)
    return sum(updates[r] * (counts[r] / total) for r in updates)


def cosines_of(data: str, preset: str, seed: int, rounds: int, attack: str) -> list[dict]:
    config, workload, adversary, runner, bad = attacked(data, seed, rounds, preset, attack)
    if config.continuation_epochs('mtf_avg'):   # then a coordinator's sent model is not its seed
        raise SystemExit('seed_direction_margin reads each seed as its coordinator\'s model: '
                         'coordinator_epochs must be seed_only')
    counts = {r: len(i) for r, i in workload.indices.items()}
    records, previous, shares = [], None, {}
    for index, plan, sent, start in stepped(runner, config, rounds):
        received = runner.wire.as_received(start)
        step = None if previous is None else torch.cat(   # in the moved entries' order, as flat_update
            [v.to(torch.float64).flatten() for v in global_step(received, previous).values()])
        previous = received
        updates = {r: flat_update(runner.wire.as_received(s), received) for r, s in sent.items()}
        clusters = {c: mean_update({r: updates[r] for r in (c, *members) if r in updates}, counts)
                    for c, members in plan.clusters.items()}
        total = sum(counts[r] for r in updates)
        for coordinator, members in plan.clusters.items():
            present = [m for m in members if m in updates]
            row = {'attack': attack, 'seed': seed, 'round': index, 'coordinator': coordinator,
                   'members': len(present), 'poisoned': coordinator in bad}
            if step is not None:
                row['seed_update'] = in_units(updates[coordinator], step)
                row['with_coordinator'] = in_units(clusters[coordinator], step)
                if present:
                    row['members_only'] = in_units(mean_update({m: updates[m] for m in present}, counts), step)
                own = shares.get(coordinator)
                row['without_own_share'] = in_units(clusters[coordinator], step if own is None else step - own)
            others = [c for c in clusters if c != coordinator]
            if len(others) == 1:
                row['other_cluster'] = in_units(clusters[coordinator], clusters[others[0]])
            records.append(row)
        shares = {c: clusters[c] * (sum(counts[r] for r in (c, *members) if r in updates) / total)
                  for c, members in plan.clusters.items()}
        print(f'{attack} seed {seed} round {index}: ' + '; '.join(
            f'{r["coordinator"]}{"*" if r["poisoned"] else ""} ' + ' '.join(
                f'{q} {r[q]:+.1f}' for q in QUANTITIES if q in r)
            for r in records if r['round'] == index and r['seed'] == seed), flush=True)
    return records


def summary_of(records: list[dict], rounds: int, attacks: list[str]) -> list[dict]:
    rows = []
    for index in range(rounds):
        mine = [r for r in records if r['round'] == index]
        rows.append({'round': index, **{q: {
            'honest_min': min((r[q] for r in mine if q in r and not r['poisoned']), default=None),
            'honest_max': max((r[q] for r in mine if q in r and not r['poisoned']), default=None),
            'poisoned': {a: sorted(r[q] for r in mine if q in r and r['poisoned'] and r['attack'] == a)
                         for a in attacks if a != 'clean'}} for q in QUANTITIES}})
    return rows


def main() -> int:
    args, records = margin_records(__doc__, cosines_of, seeds='10-11',
                                   attacks='top:1:noise,top:1:sign_flip,top:1:rotated_labels,clean',
                                   stored='clusters')
    summary = summary_of(records, args.rounds, args.attacks.split(','))
    print(json.dumps(summary))
    cpu = (json.loads(Path(args.records).read_text())['cpu'] if args.records
           else describe_machine('cpu', 'fp32')['cpu'])
    Path(args.out).write_text(json.dumps({'command': ' '.join(sys.argv), 'cpu': cpu, 'summary': summary,
                                          'clusters': records}, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
