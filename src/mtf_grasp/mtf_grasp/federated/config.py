"""The experiment config: one YAML file that the in-process experiment and the ROS fleet share.

`config/experiments/*.yaml` hold the keys below; an optional `quick:` mapping holds overrides
(merged over the rest) for the fast variant run by `--quick`. The fleet's config can point at one of
these files (or embed the same mapping) and call `experiment_from_mapping`, so both run the same
model, data, partition, seeds and round settings.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from mtf_grasp.configfile import from_mapping, load_yaml
from mtf_grasp.errors import InputError
from mtf_grasp.federated.planning import TIERED_METHODS, TopLevelRule, method_base
from mtf_grasp.federated.robust import AGGREGATORS, NormBound, trim_count
from mtf_grasp.federated.rounds import LocalTrainingSettings
from mtf_grasp.grasping.model_spec import ModelSpec

REFERENCE_METHODS = ('centralized', 'local_only')
ALL_METHODS = ('fedavg', 'fednova', 'mtf_avg', 'mtf_nova', 'centralized', 'local_only')


@dataclass(frozen=True)
class DataConfig:
    root: str = 'data/simgrasp_500'
    labeller: Literal['object', 'angle'] = 'object'
    test_fraction: float = 0.2      # of all samples: the shared test set ...
    test_samples: int = 0           # ... or exactly this many samples when > 0
    max_train_samples: int = 0      # 0: robots share all the rest; else a seeded subset of this size
    augment: bool = False


@dataclass(frozen=True)
class PartitionConfig:
    method: Literal['quantity_skew', 'class_noniid'] = 'quantity_skew'
    robots: int = 7                 # n
    beta: float = 0.7               # quantity skew: Dirichlet(β) over robots
    classes_per_robot: int | None = None   # class non-IID: k classes per robot ...
    alpha: float | None = None             # ... or Dirichlet(α) over robots per class
    min_samples: int = 10


@dataclass(frozen=True)
class FederationConfig:
    rounds: int = 10
    top_level: TopLevelRule = 2     # j, or a rule for it from n: sqrt, {fraction: f} (planning.py)
    seed_epochs: int = 5            # et: top-level robots' training into the seed model
    local_epochs: int = 15          # er: low-level fine-tuning
    baseline_epochs: int | None = None   # FedAvg/FedNova/FedProx/centralized/local-only; None: er
    lambda_dds: float = 0.5
    lambda_dqs: float = 0.5
    ranking: Literal['is', 'dds', 'dqs', 'random'] = 'is'
    assignment: Literal['balanced', 'round_robin', 'class_complement'] = 'balanced'
    encoding: Literal['fp32', 'fp16'] = 'fp32'
    fedprox_mu: float = 0.01
    # What a top-level robot contributes to eq. 8 (rounds.py and docs/experiments.md explain each):
    tier_aggregate: Literal['with_coordinator', 'members_only'] = 'with_coordinator'
    coordinator_epochs: Literal['seed_only', 'seed_then_local'] = 'seed_only'
    # FedBN: every robot keeps its own BatchNorm layers (statistics and affine parameters)
    fedbn: bool = False


@dataclass(frozen=True)
class NormBoundConfig:
    """`defences.norm_bound`: off while both limits are null; robust.NormBound defines B and checks them."""

    max_norm: float | None = None
    max_relative: float | None = None
    action: Literal['clip', 'reject'] = 'clip'
    # The server's own action (null: `action`). A clipped cluster model still moves the global model
    # its whole bound along a poisoned direction, so rejecting there while clipping members is an option.
    server_action: Literal['clip', 'reject'] | None = None

    def __post_init__(self):
        self.bound('cluster')
        self.bound('server')

    def bound(self, tier: Literal['cluster', 'server'] = 'cluster') -> NormBound | None:
        """The bound a coordinator ('cluster') or the server applies; None when no limit is set."""
        if self.max_norm is None and self.max_relative is None:
            return None
        action = self.server_action if tier == 'server' and self.server_action is not None else self.action
        return NormBound(max_norm=self.max_norm, max_relative=self.max_relative, action=action)


@dataclass(frozen=True)
class DefenceConfig:
    """Defences at both tiers (rounds.py applies them; docs/security.md). Off here, so an experiment
    computes eq. 8/9 as the paper writes them; the fleet's config turns the measured defaults on
    (config/experiments/quantity_skew_defended.yaml)."""

    norm_bound: NormBoundConfig = field(default_factory=NormBoundConfig)
    # 'trimmed_mean' and 'median' are coordinate-wise and unweighted; 'mean' is eq. 8/9 as written
    aggregator: Literal[AGGREGATORS] = 'mean'
    trim_fraction: float = 0.25     # cut ⌊fraction·k⌋ of k models at each end (1/3 trims one of three)
    # Direction check (robust.direction_check): an update whose cosine with the others' sum is below
    # z/√d (d: trained coordinates), i.e. no better than a random direction, is refused; of a pair or
    # a lone member beside the seed, one not following the global model's last move. null: off.
    direction_z: float | None = None
    # Fit check (fit_check.py), at a coordinator: a member's model whose loss on the coordinator's own
    # data exceeds fit_ratio × the median of the other members' is refused (a minority at most). null: off.
    fit_ratio: float | None = None
    # Seed check (seed_check.py), at the server: each member reports its coordinator's seed's loss on its
    # own data; a cluster whose members' reports exceed seed_ratio × the other clusters' is refused and
    # its coordinator is never top-level again (a minority at most); plans then give every coordinator
    # two members where the fleet has them. null: off.
    seed_ratio: float | None = None
    # Step check (step_check.py), at the server: a cluster model whose update follows the fleet's last
    # step (the global model's move over the previous round) less than step_ratio × the other clusters',
    # two rounds running, is refused and its coordinator is never top-level again (a minority at most).
    # null: off.
    step_ratio: float | None = None
    # Profile plausibility (plausibility.py): a claimed count ranks as at most count_cap × the median
    # claim; with check_claims, a robot whose training reports too few steps for its claimed count
    # is not selected top-level from the next round on.
    count_cap: float | None = None
    check_claims: bool = False
    # Coordinator accountability (audit.py): receipts of the member models each cluster counted, and
    # each round each cluster audited with probability audit_rate (eq. 8 recomputed by the server).
    check_members: bool = False
    audit_rate: float = 0.0

    def __post_init__(self):
        trim_count(1, self.trim_fraction)   # ValueError outside [0, 0.5)
        if self.count_cap is not None and not self.count_cap >= 1:
            raise ValueError(f'count_cap must be at least 1, got {self.count_cap}')
        if self.direction_z is not None and not self.direction_z >= 0:
            raise ValueError(f'direction_z must be non-negative, got {self.direction_z}')
        if self.fit_ratio is not None and not self.fit_ratio > 1:
            raise ValueError(f'fit_ratio must exceed 1, got {self.fit_ratio}')
        if self.seed_ratio is not None and not self.seed_ratio > 1:
            raise ValueError(f'seed_ratio must exceed 1, got {self.seed_ratio}')
        if self.step_ratio is not None and not 0 < self.step_ratio < 1:
            raise ValueError(f'step_ratio must lie in (0, 1), got {self.step_ratio}')
        if not 0.0 <= self.audit_rate <= 1.0:
            raise ValueError(f'audit_rate must lie in [0, 1], got {self.audit_rate}')

    @property
    def needs_reference(self) -> bool:
        """Whether a tier needs its reference model (the seed, the global model) to aggregate."""
        return self.norm_bound.bound() is not None or self.direction_z is not None

    @property
    def active(self) -> bool:
        return (self.norm_bound.bound() is not None or self.aggregator != 'mean' or self.direction_z is not None
                or self.fit_ratio is not None or self.seed_ratio is not None
                or self.step_ratio is not None or self.count_cap is not None
                or self.check_claims or self.check_members or self.audit_rate > 0)


@dataclass(frozen=True)
class ExperimentConfig:
    name: str = 'experiment'
    seed: int = 0
    # torch threads per process: 1 avoids oversubscribing small shared machines (0: torch's default)
    torch_threads: int = 1
    methods: list[str] = field(default_factory=lambda: list(ALL_METHODS))
    model: ModelSpec = field(default_factory=ModelSpec)
    data: DataConfig = field(default_factory=DataConfig)
    partition: PartitionConfig = field(default_factory=PartitionConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    training: LocalTrainingSettings = field(default_factory=LocalTrainingSettings)
    defences: DefenceConfig = field(default_factory=DefenceConfig)

    def __post_init__(self):
        for method in self.methods:
            if method not in REFERENCE_METHODS:
                method_base(method)
        if isinstance(self.federation.top_level, int) and not 1 <= self.federation.top_level < self.partition.robots:
            raise ValueError(f'federation.top_level j={self.federation.top_level} must lie in '
                             f'[1, n-1] for partition.robots n={self.partition.robots}')
        if self.federation.fedbn and self.model.norm != 'batch':
            raise ValueError(f'federation.fedbn keeps BatchNorm layers local, but model.norm is '
                             f'{self.model.norm!r}')

    def epochs(self, method: str, *, coordinator: bool = False) -> int:
        """Local epochs of one robot in one round: et for MTF coordinators, er for MTF low-level
        robots, the baseline epochs (default er) for every other method."""
        fed = self.federation
        if method in TIERED_METHODS:
            return fed.seed_epochs if coordinator else fed.local_epochs
        return fed.local_epochs if fed.baseline_epochs is None else fed.baseline_epochs

    def continuation_epochs(self, method: str) -> int:
        """Epochs an MTF coordinator trains on after sending its seed: er − et under
        `coordinator_epochs: seed_then_local` (0 when et ≥ er), else 0."""
        fed = self.federation
        if method not in TIERED_METHODS or fed.coordinator_epochs == 'seed_only':
            return 0
        return max(fed.local_epochs - fed.seed_epochs, 0)

    def training_for(self, method: str) -> LocalTrainingSettings:
        """Local training settings; FedProx adds its proximal term, every other method trains plainly."""
        mu = self.federation.fedprox_mu if method == 'fedprox' else 0.0
        return dataclasses.replace(self.training, prox_mu=mu)


def merge_mappings(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` merged in, mapping by mapping (overrides win)."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_mappings(merged[key], value)
        else:
            merged[key] = value
    return merged


def experiment_from_mapping(data: Mapping[str, Any], source: str, *, quick: bool = False,
                            seed: int | None = None) -> ExperimentConfig:
    """Build the config from a mapping; with `quick`, its `quick:` overrides apply first."""
    data = dict(data)
    overrides = data.pop('quick', None) or {}
    if not isinstance(overrides, Mapping):
        raise InputError(f'{source}.quick: expected a mapping of overrides')
    if quick:
        data = merge_mappings(data, overrides)
    if seed is not None:
        data['seed'] = seed
    return from_mapping(ExperimentConfig, data, source)


def load_experiment_config(path: str | Path, *, quick: bool = False, seed: int | None = None) -> ExperimentConfig:
    """Read config/experiments/NAME.yaml (errors name the file and field).

    `extends: OTHER.yaml` (relative to the file) starts from that file's mapping, so a variant only
    lists what it changes.
    """
    return experiment_from_mapping(load_experiment_mapping(Path(path)), str(path), quick=quick, seed=seed)


def load_experiment_mapping(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The mapping of an experiment YAML with its `extends:` chain merged in (not yet validated)."""
    data = load_yaml(path)
    base = data.pop('extends', None)
    if base is None:
        return data
    base_path = (path.parent / str(base)).resolve()
    if base_path in seen:
        raise InputError(f'{path}: extends {base} makes a cycle')
    return merge_mappings(load_experiment_mapping(base_path, (*seen, base_path)), data)
