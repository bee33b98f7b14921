"""Seed check: the members judge their coordinator's seed on their own data, the server compares clusters.

A top-level robot trains the seed its members start from, and every defence inside its cluster runs
on its own machine, so a coordinator that poisons its seed (`top:1:sign_flip`, `noise`,
`rotated_labels`) is bounded by nothing it runs itself. Its members are the only honest robots that
see the seed. Each member scores the seed it received by its mean training loss on its own data
(`grasp_loss`, before fine-tuning) and reports that number to the server, signed (signing.py). The
server cannot judge one number alone (members' data differ, and losses fall as the fleet learns), so
it compares clusters: a cluster is refused when the lower median of its members' reports exceeds
`ratio` times the median of the other clusters' references, a reference being the upper median of
a cluster's reports, and only of a cluster with two reports or more. So one lying member can
neither raise its own cluster's value when it has a peer, nor lower a reference. A refused
cluster's model is left out of the round and its coordinator is never top-level again
(defences.ruled_out), as after a failed audit; its members are re-assigned by the next plan.

As with the fit check, at most a minority of the judged clusters is refused (one of two to four, the
worst first). While the check is on, the plan gives every coordinator MIN_MEMBERS members where the
fleet has them (experiment.plan_for). The limits: where it has not, the lone member of a cluster of
one decides that cluster's value alone, so a lying lone member can get its own honest coordinator
refused (not another one); and a poisoned seed that fits as well as an honest one (noise) passes.
A report must be a positive loss; a non-finite one (the seed gave NaN) counts as +inf. Measured in
docs/security-measurements.md (results/seed_margin_check.json: the cpu preset's held-out seeds 10 and 11, 10
rounds, undefended):
honest clusters at most 1.16× their reference, sign-flipped seeds 2.86× to 47×, seeds trained on
rotated labels 1.07×/1.22× in round 0, 1.62×/1.77× in round 1 and 2.2× or more later, noisy seeds
0.95× to 1.68×.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Mapping, Sequence

from mtf_grasp.federated.fit_check import most_refused

# While the check is on, the plan gives every coordinator this many members where the fleet has them
# (assignment.with_at_least): a cluster without members is judged by nobody, and the lower median of
# its reports ignores a lying member only beside a peer.
MIN_MEMBERS = 2


@dataclass(frozen=True)
class SeedVerdict:
    values: dict[str, float]       # coordinator -> the lower median of its members' reports
    references: dict[str, float]   # coordinator -> the median of the other clusters' references
    refused: list[str]             # coordinators whose seeds fit their members' data too poorly


def _ordered(losses: Sequence[float]) -> list[float]:
    for x in losses:
        if not x > 0 and not math.isnan(x):
            raise ValueError(f'a seed loss must be positive, got {x}')
    return sorted(x if math.isfinite(x) else math.inf for x in losses)


def seed_check(reports: Mapping[str, Sequence[float]], *, ratio: float) -> SeedVerdict:
    """Which coordinators' seeds fit their members' data more than `ratio` times worse than the other
    clusters' (`reports`: coordinator -> its members' reported losses; a cluster with no report is not
    judged, one with a single report judged but no reference), at most a minority of the judged
    clusters, the worst first."""
    if not ratio > 1:
        raise ValueError(f'the seed ratio must exceed 1, got {ratio}')
    ordered = {c: _ordered(losses) for c, losses in reports.items() if losses}
    values = {c: v[(len(v) - 1) // 2] for c, v in ordered.items()}
    upper = {c: v[len(v) // 2] for c, v in ordered.items() if len(v) >= 2}
    references = {c: statistics.median([u for o, u in upper.items() if o != c])
                  for c in values if any(o != c for o in upper)}

    def excess(c: str) -> float:
        return math.inf if values[c] == math.inf else values[c] / references[c]

    over = sorted((c for c in references if excess(c) > ratio), key=excess, reverse=True)
    return SeedVerdict(values=values, references=references, refused=over[:most_refused(len(values))])
