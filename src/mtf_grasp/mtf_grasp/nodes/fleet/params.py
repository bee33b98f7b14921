"""Parameters of the fleet nodes: one dataclass each, declared as ROS parameters with descriptors.

The learning itself (model, local training, epochs, tiers) comes from the experiment YAML every
node reads, so the fleet and `mtf-grasp experiment` compute with the very same settings. The
transport and fault limits take their defaults from the fleet config's own dataclasses
(mtf_grasp.fleet) and are checked by them, so a node started by hand refuses the values
`mtf-grasp fleet` refuses.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mtf_grasp.fleet import FaultConfig, TransportConfig, check_aggregation, check_limits

_TRANSPORT, _FAULTS = TransportConfig(), FaultConfig()


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
    service_timeout_s: float = _help('seconds to wait for a service to appear or answer, and for a model on '
                                     'its topic before asking the service for it',
                                     _TRANSPORT.service_timeout_s)
    round_timeout_s: float = _help('seconds a round may take before it fails (also: waits for plans)',
                                   _TRANSPORT.round_timeout_s)
    roster: list[str] = _help('fleet members as id=key_file; only their signed models are used', factory=list)
    attacks: list[str] = _help('misbehaviour to replay, ROBOT_ID:KIND:FROM_ROUND (mtf-grasp fleet --attack; '
                               'testing the defences only)', factory=list)
    crashes: list[str] = _help('ROBOT_ID:ROUND: that robot\'s nodes crash (SIGKILL) when the round starts and '
                               'miss it (mtf-grasp fleet --crash; fault testing only)', factory=list)
    round_deadline_s: float = _help('seconds after its plan when the server aggregates what arrived '
                                    '(given a quorum)', _FAULTS.round_deadline_s)
    tier_deadline_s: float = _help("seconds after its plan when a coordinator aggregates its members' "
                                   'models that arrived', _FAULTS.tier_deadline_s)
    quorum: float = _help("share of a round's expected models the server needs at the deadline", _FAULTS.quorum)
    retries: int = _help('how often a robot retries a service call that failed', _FAULTS.retries)
    retry_backoff_s: float = _help('first pause between retries (doubles each try, at most 10 s)',
                                   _FAULTS.retry_backoff_s)
    aggregation: str = _help("ordered: a round's models folded in the plan's order, as the experiment does; "
                             'streaming: each folded as it is admitted (O(|θ|) memory)', 'ordered')

    def __post_init__(self):
        check_limits(_subset(TransportConfig, self), _subset(FaultConfig, self))
        check_aggregation(self.aggregation)


def _subset(cls, params):
    """`cls` built from the same-named fields of `params` (its own defaults for the others)."""
    return cls(**{f.name: getattr(params, f.name) for f in dataclasses.fields(cls) if hasattr(params, f.name)})


@dataclass(frozen=True)
class ServerParams(FleetParams):
    checkpoint_dir: str = _help('where the global model is saved after every round (empty: none)', '')
    summary_file: str = _help('summary.json written after the last round (empty: none)', '')
    registration_timeout_s: float = _help('seconds to wait for every robot to register',
                                          _TRANSPORT.registration_timeout_s)


@dataclass(frozen=True)
class RobotParams(FleetParams):
    robot_id: str = _help('this robot\'s id; its samples are the manifest entry of that name', '')


def declare_robot(node) -> RobotParams:
    """`node`'s RobotParams, declared as ROS parameters; InputError when robot_id is empty."""
    from mtf_grasp.errors import InputError
    from mtf_grasp.nodes.parameters import declare_config   # rclpy: only where a node is built

    params = declare_config(node, RobotParams)
    if not params.robot_id:
        raise InputError(f'{node.get_fully_qualified_name()}: parameter robot_id is empty')
    return params
