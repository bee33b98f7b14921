"""Parameters of the fleet nodes: one dataclass each, declared as ROS parameters with descriptors.

The learning itself (model, local training, epochs, tiers) comes from the experiment YAML every
node reads, so the fleet and `mtf-grasp experiment` compute with the very same settings.
"""
from __future__ import annotations

from dataclasses import dataclass, field


def _help(text: str, default=None, factory=None):
    if factory is not None:
        return field(default_factory=factory, metadata={'help': text})
    return field(default=default, metadata={'help': text})


@dataclass(frozen=True)
class FleetParams:
    """What every fleet node knows: the experiment, the fleet, the transport limits."""

    experiment: str = _help('experiment YAML (model, local training, epochs, tiers)', '')
    quick: bool = _help("apply the experiment's quick: overrides", False)
    seed: int = _help("base seed; -1 keeps the experiment's", -1)
    data_root: str = _help("dataset root; empty keeps the experiment's", '')
    method: str = _help('federated method: mtf_avg, mtf_nova, fedavg or fednova', 'mtf_avg')
    rounds: int = _help('number of federated rounds', 3)
    manifest: str = _help('partition manifest: the samples each robot holds and the test set', '')
    robots: list[str] = _help('ids of every robot of the fleet', factory=list)
    report_dir: str = _help('directory for per-node round records (empty: none)', '')
    service_timeout_s: float = _help('seconds to wait for a service to appear or answer', 60.0)
    round_timeout_s: float = _help('seconds a round may take before it fails (also: waits for plans)', 1800.0)
    roster: list[str] = _help('fleet members as id=key_file; only their signed models are used', factory=list)
    round_deadline_s: float = _help('seconds after its plan when the server aggregates what arrived '
                                    '(given a quorum)', 900.0)
    tier_deadline_s: float = _help("seconds after its plan when a coordinator aggregates its members' "
                                   'models that arrived', 600.0)
    quorum: float = _help("share of a round's expected models the server needs at the deadline", 0.5)
    retries: int = _help('how often a robot retries a service call that failed', 8)
    retry_backoff_s: float = _help('first pause between retries (doubles each try, at most 10 s)', 0.5)


@dataclass(frozen=True)
class ServerParams(FleetParams):
    checkpoint_dir: str = _help('where the global model is saved after every round (empty: none)', '')
    summary_file: str = _help('summary.json written after the last round (empty: none)', '')
    registration_timeout_s: float = _help('seconds to wait for every robot to register', 600.0)


@dataclass(frozen=True)
class RobotParams(FleetParams):
    robot_id: str = _help('this robot\'s id; its samples are the manifest entry of that name', '')
