"""Attacks of one robot on the roster (issue 19), replayable in the in-process experiment.

`--attack ROBOT:KIND[:FROM_ROUND]`: from that round on (default 0), the robot (an id, or `top:K` /
`low:K`: the K-th top-level / low-level robot of round 0's MTF plan, in rank order) does KIND:

- `scale10`, `scale100`: sends θ_ref + s·(θ − θ_ref) for every model it trains, θ_ref being the model
  it started from; `sign_flip`: s = −1; `noise`: θ_ref + g with Gaussian g of norm ‖θ − θ_ref‖.
  Only entries gradients move are changed (BatchNorm statistics stay). A coordinator's seed is such a
  model too, so its members start from the attacked seed.
- `rotated_labels`: trains on its grasps turned by 90° (data poisoning; `RotatedLabels`).
- `inflated_profile`: claims 20× its sample count with a perfectly uniform class histogram, to be
  ranked top-level (`inflated`).
- `inflated_weight`: every model it sends claims 100× its sample count (the weight of eq. 8/9),
  while its registered profile stays honest.
- `forged_aggregate`: as a coordinator, sends a `scale100` model of its cluster aggregate (against
  the round's global model); `dropped_member`: as a coordinator, silently leaves its first member
  out of eq. 8 (the member still trains and uploads).

Under any of them, a low-level robot also lies in its seed report (seed_check.py): it reports 100×
the loss its coordinator's seed has on its data, the most it can do to get an honest coordinator
refused (`reported`).

Pure functions over states (name -> tensor); no rclpy.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Mapping, Sequence

import torch

from mtf_grasp.federated.planning import robot_seed
from mtf_grasp.federated.profiles import RobotProfile
from mtf_grasp.federated.robust import is_moved

if TYPE_CHECKING:   # rounds.py does not import this module, but keeps it free of the attacks
    from mtf_grasp.federated.rounds import ModelUpdate

State = Mapping[str, torch.Tensor]

UPDATE_KINDS = {'scale10': 10.0, 'scale100': 100.0, 'sign_flip': -1.0, 'noise': None}
KINDS = (*UPDATE_KINDS, 'rotated_labels', 'inflated_profile', 'inflated_weight', 'forged_aggregate',
         'dropped_member')
TIERS = ('top', 'low')
PROFILE_FACTOR = 20
WEIGHT_FACTOR = 100
FORGE_FACTOR = 100.0
REPORT_FACTOR = 100.0


@dataclass(frozen=True)
class Attack:
    """`robot` does `kind` from round `from_round` on; `robot` may be a `top:K`/`low:K` selector."""

    robot: str
    kind: str
    from_round: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f'unknown attack {self.kind!r} (known: {", ".join(KINDS)})')
        if not self.robot:
            raise ValueError('an attack needs a robot')
        if self.from_round < 0:
            raise ValueError(f'attack round must be 0 or later, got {self.from_round}')

    def active(self, robot_id: str, round_index: int) -> bool:
        return self.robot == robot_id and round_index >= self.from_round


    def __str__(self) -> str:
        return f'{self.robot}:{self.kind}:{self.from_round}'


def parse_attack(text: str) -> Attack:
    """`ROBOT:KIND[:FROM_ROUND]` (ROBOT may itself be `top:K` or `low:K`); ValueError naming the text."""
    parts = text.split(':')
    from_round = 0
    if len(parts) >= 3 and parts[-1].isdigit() and parts[-2] in KINDS:
        from_round = int(parts.pop())
    if len(parts) < 2 or parts[-1] not in KINDS:
        raise ValueError(f'{text!r} is not ROBOT:KIND[:FROM_ROUND] with KIND one of {", ".join(KINDS)}')
    return Attack(robot=':'.join(parts[:-1]), kind=parts[-1], from_round=from_round)


def resolve(attacks: Sequence[Attack], *, plan, robots: Sequence[str]) -> tuple[Attack, ...]:
    """The attacks with `top:K`/`low:K` replaced by robot ids of `plan` (an MTF RoundPlan); ValueError
    for a robot not in `robots` or a selector past the end of its tier."""
    tiers = {'top': list(plan.top_level),
             'low': [entry[0] for entry in plan.ranking if entry[0] not in plan.top_level]}
    resolved = []
    for attack in attacks:
        robot = attack.robot
        tier, _, number = robot.partition(':')
        if tier in TIERS and number:
            if not number.isdigit() or not 1 <= int(number) <= len(tiers[tier]):
                raise ValueError(f'{robot!r}: round 0 has {len(tiers[tier])} {tier}-level robots')
            robot = tiers[tier][int(number) - 1]
        elif robot not in robots:
            raise ValueError(f'attacking robot {robot!r} is not one of {", ".join(robots)}')
        resolved.append(Attack(robot=robot, kind=attack.kind, from_round=attack.from_round))
    return tuple(resolved)


def scaled(state: State, reference: State, *, factor: float) -> dict[str, torch.Tensor]:
    """θ_ref + factor·(θ − θ_ref) on the entries gradients move."""
    return {k: (reference[k].to(torch.float64) + factor * (v.to(torch.float64) - reference[k].to(torch.float64))
                ).to(v.dtype) if is_moved(k, v) else v for k, v in state.items()}


def noised(state: State, reference: State, *, seed: int) -> dict[str, torch.Tensor]:
    """θ_ref + g, g Gaussian (seeded) with the norm of θ − θ_ref over the entries gradients move."""
    generator = torch.Generator().manual_seed(seed)
    moved = [k for k, v in state.items() if is_moved(k, v)]
    deltas = {k: state[k].to(torch.float64) - reference[k].to(torch.float64) for k in moved}
    noise = {k: torch.randn(deltas[k].shape, generator=generator, dtype=torch.float64) for k in moved}
    norm = torch.sqrt(sum(d.square().sum() for d in deltas.values()))
    scale = norm / torch.sqrt(sum(g.square().sum() for g in noise.values()))
    return {k: (reference[k].to(torch.float64) + noise[k] * scale).to(v.dtype) if k in noise else v
            for k, v in state.items()}


def poisoned(kind: str, state: State, reference: State, *, seed: int) -> dict[str, torch.Tensor]:
    """The model a robot doing update attack `kind` (one of UPDATE_KINDS) sends instead of `state`."""
    if kind == 'noise':
        return noised(state, reference, seed=seed)
    return scaled(state, reference, factor=UPDATE_KINDS[kind])


def forged(aggregate: State, reference: State) -> dict[str, torch.Tensor]:
    """A coordinator's forged cluster model: a `scale100` model of its aggregate."""
    return scaled(aggregate, reference, factor=FORGE_FACTOR)


def inflated(profile: RobotProfile) -> RobotProfile:
    """20× the sample count (rounded up to a multiple of K) spread evenly over the K classes."""
    classes = max(len(profile.class_histogram), 1)
    per_class = -(-PROFILE_FACTOR * profile.sample_count // classes)
    return RobotProfile(profile.robot_id, per_class * classes, (per_class,) * len(profile.class_histogram))


class RotatedLabels:
    """A dataset whose grasp labels are turned by 90°: θ → θ + π/2 flips cos 2θ and sin 2θ where a
    grasp is (quality > 0); quality and width maps stay. Everything else is the wrapped dataset's."""

    def __init__(self, dataset):
        self._dataset = dataset

    def __getattr__(self, name):
        return getattr(self._dataset, name)

    def __len__(self) -> int:
        return len(self._dataset)

    @staticmethod
    def _rotated(pair):
        x, y = pair
        y = y.clone()
        grasp = y[0] > 0
        y[1:3, grasp] = -y[1:3, grasp]
        return x, y

    def item(self, i: int, **kwargs):
        return self._rotated(self._dataset.item(i, **kwargs))

    def tensors(self, i: int, device: str = 'cpu'):
        return self._rotated(self._dataset.tensors(i, device))

    def __getitem__(self, i: int):
        return self.item(i)


@dataclass(frozen=True)
class Adversary:
    """The resolved attacks of one experiment: who does what in which round."""

    attacks: tuple[Attack, ...] = ()

    def kinds(self, robot_id: str, round_index: int) -> frozenset[str]:
        return frozenset(a.kind for a in self.attacks if a.active(robot_id, round_index))

    def profiles(self, profiles: Sequence[RobotProfile], round_index: int) -> list[RobotProfile]:
        """The profiles the server ranks in `round_index`: inflated ones where that attack is on."""
        return [inflated(p) if 'inflated_profile' in self.kinds(p.robot_id, round_index) else p
                for p in profiles]

    def data(self, dataset, robot_id: str, round_index: int):
        """What `robot_id` trains on in `round_index`: `dataset`, its grasps turned under rotated_labels."""
        return RotatedLabels(dataset) if 'rotated_labels' in self.kinds(robot_id, round_index) else dataset

    def reported(self, robot_id: str, round_index: int, loss: float) -> float:
        """The seed loss `robot_id` reports for its coordinator's seed, whose loss on its data is `loss`."""
        return loss * REPORT_FACTOR if self.kinds(robot_id, round_index) else loss

    def sent(self, update: ModelUpdate, start: State, *, base_seed: int, purpose: str) -> ModelUpdate:
        """What the robot sends for its trained `update`, trained from `start` with `purpose` (noise
        seeded by both): `update` itself unless an update or weight attack is on."""
        kinds = self.kinds(update.robot_id, update.round_index)
        state = update.state
        for kind in sorted(kinds & UPDATE_KINDS.keys()):
            seed = robot_seed(base_seed, update.robot_id, update.round_index, f'attack:{purpose}')
            state = poisoned(kind, state, start, seed=seed)
        samples = update.sample_count * (WEIGHT_FACTOR if 'inflated_weight' in kinds else 1)
        return replace(update, state=state, sample_count=samples)
