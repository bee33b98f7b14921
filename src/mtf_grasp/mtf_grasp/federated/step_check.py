"""Step check: at the server, a cluster model that does not follow the fleet's last step as its peers do.

A top-level robot that noises its seed to an honest norm (`top:1:noise`) passes the norm bound, and
its seed fits its members' data about as well as an honest one, so the seed check passes it too.
What noise cannot do is point where the fleet goes: an honest cluster model is et + er epochs of
training from the round's global model, and goes much where the fleet went last round, the global
model's move θ_g(r) − θ_g(r−1), which the server holds. Each cluster update's alignment with that
step is its cosine with it in units of 1/√d (d the moved coordinates; a random direction's cosine
has mean 0 and standard deviation about 1/√d). A cluster lags when its alignment stays under
`ratio` times the median of the other clusters' alignments, judged only where those others follow
the step beyond chance (FOLLOWS units): when nobody follows it, the step says nothing. An honest
cluster can lag for a round: the step is mostly the last move of the cluster that held most of the
data, and that cluster's next update follows its own last move closely, so the others' look
lagging beside it. A poisoner lags every round. So a cluster is refused only when its coordinator's
cluster lagged in the round before as well (`lagged`); the first time it is only recorded. A
refused cluster's model is left out of the round and its coordinator is never top-level again
(defences.ruled_out); at most a minority of the clusters lags in a round (one of two to four, the
worst first), as the seed check refuses. Round 0, and a round after a restart that lost the
previous global model, have no step: nothing is judged. Cost: no traffic; the server holds the
round's cluster models until all are in (O(j·|θ|), as for the seed check) and two global models.

Measured (docs/security-measurements.md, "The step check"; the cpu preset, 10 rounds). Undefended
(results/seed_direction_margin*.json, rounds 1 to 9): on the held-out seeds 10 and 11 honest
clusters +22 to +89 units, within 0.80 of each other on clean runs; a cluster whose coordinator
noised its seed +2.2 to +10.5, 0.06 to 0.17 of the other's (its members' fine-tuning is honest;
under `members_only` 0.16 to 0.48); a reversed seed's cluster below 0. On the clean seed 0, whose
data-richest coordinator had no members, the other cluster lagged it at 0.22 and 0.24 in rounds 7
and 9: hence a quarter and two rounds running. With the fleet's defaults (the attack table's
`step_check` column, 5 seeds): a noised seed refused in round 2 on 3 seeds (−7.6 points from the
fault-free run instead of −12.7), nothing refused on 10 clean runs of 10 rounds, and 3 honest
coordinators refused in 25 attacked runs and one in round 14 of a clean 20-round run, all on seed
0, where one coordinator holds most of the data; so it is an option, not a default. Measuring each
cluster against the step less its own share of it does not help: with two clusters that leaves the
other's last move, which honest clusters stop following after round 2. Not seen: a poisoned seed
that follows the step (`rotated_labels`: the seed check's), poison along the fleet's own
direction, and fleets with so little data that honest clusters stop following the step (then
nothing is judged).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Collection, Mapping

from mtf_grasp.federated.fit_check import most_refused

# Beyond chance along the last step, in units of 1/√d: the direction check's default z.
FOLLOWS = 3.0


@dataclass(frozen=True)
class StepVerdict:
    references: dict[str, float]   # coordinator -> the median of the other clusters' alignments (judged ones)
    lagging: list[str]             # coordinators whose cluster models lag the others' along the step
    refused: list[str]             # ... and lagged in the round before too


def step_check(alignments: Mapping[str, float], *, ratio: float,
               lagged: Collection[str] = frozenset()) -> StepVerdict:
    """Which clusters (`alignments`: coordinator -> its cluster update's cosine with the last step
    times √d) follow the step less than `ratio` times the median of the others, where the others
    follow it beyond chance: at most `most_refused` of them, the lowest fraction first; those of
    them whose coordinators' clusters `lagged` in the round before are refused."""
    if not 0 < ratio < 1:
        raise ValueError(f'the step ratio must lie in (0, 1), got {ratio}')
    references = {c: statistics.median(o for d, o in alignments.items() if d != c)
                  for c in alignments if len(alignments) >= 2}
    references = {c: r for c, r in references.items() if r >= FOLLOWS}
    lagging = sorted((c for c, r in references.items() if alignments[c] < ratio * r),
                     key=lambda c: alignments[c] / references[c])
    lagging = lagging[:most_refused(len(alignments))]
    return StepVerdict(references=references, lagging=lagging, refused=[c for c in lagging if c in lagged])
