"""The fleet plan: which nodes run, under which names and namespaces, with which parameters.

Built from `config/fleet.yaml` and used by both `launch/fleet.launch.py` and `mtf-grasp fleet`,
so one YAML file decides the fleet however it is started. The fleet file names an experiment
config for the learning (data, partition, model, local training, tiers, seed) and adds what only
a deployment has: the method to run, the rounds, a partition manifest, transport limits, how
faults are handled (deadlines, quorum, retries), how crashed nodes are restarted, how nodes
discover each other (a Fast DDS discovery server for large fleets), how many robots share one
process (simulated fleets), and the roster of members with their HMAC keys.
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from mtf_grasp.configfile import from_mapping, load_yaml
from mtf_grasp.errors import InputError
from mtf_grasp.plan import NodeSpec
from mtf_grasp.restarts import RestartPolicy

if TYPE_CHECKING:
    from mtf_grasp.federated.roster import Roster

SERVER_NAME = 'fl_server'
SERVER_ID = 'server'  # the server's member id in the roster and in ModelBlob.sender
ALL_MEMBERS = '*'     # roster: {'*': DIR} gives every member not listed the key file DIR/<member>.key
FLAT_METHODS = ('fedavg', 'fednova')
TIERED_METHODS = ('mtf_avg', 'mtf_nova')
AGGREGATIONS = ('ordered', 'streaming')   # nodes/fleet/inbox.py


@dataclass(frozen=True)
class TransportConfig:
    service_timeout_s: float = 60.0        # a service must appear and answer within this (and a
    #                                        model on its topic before the robot asks the service)
    round_timeout_s: float = 1800.0        # a round without its quorum by then fails the run
    registration_timeout_s: float = 600.0  # every robot must have registered within this

    def __post_init__(self):
        _positive(self, 'service_timeout_s', 'round_timeout_s', 'registration_timeout_s')


@dataclass(frozen=True)
class FaultConfig:
    """How the fleet copes with robots that crash, stall or lag (each round, after its plan)."""

    round_deadline_s: float = 900.0  # the server then aggregates what arrived, given a quorum
    tier_deadline_s: float = 600.0   # a coordinator then aggregates the members' models that arrived
    quorum: float = 0.5              # share of a round's expected models the server needs at its deadline
    retries: int = 8                 # robots retry a service call this often, with backoff
    retry_backoff_s: float = 0.5     # first pause between tries; doubles each try, at most 10 s

    def __post_init__(self):
        _positive(self, 'round_deadline_s', 'tier_deadline_s', 'retry_backoff_s')
        if not self.tier_deadline_s < self.round_deadline_s:
            raise ValueError(f'tier_deadline_s ({self.tier_deadline_s}) must be below round_deadline_s '
                             f'({self.round_deadline_s}): clusters must reach the server in time')
        if not 0 < self.quorum <= 1:
            raise ValueError(f'quorum must be in (0, 1], got {self.quorum}')
        if self.retries < 0:
            raise ValueError(f'retries must not be negative, got {self.retries}')


def check_limits(transport: TransportConfig, faults: FaultConfig) -> None:
    """The limits that involve both: a round's deadline comes before its timeout."""
    if faults.round_deadline_s > transport.round_timeout_s:
        raise ValueError(f'faults.round_deadline_s ({faults.round_deadline_s}) must not exceed '
                         f'transport.round_timeout_s ({transport.round_timeout_s})')


def _positive(config, *names: str) -> None:
    for name in names:
        if getattr(config, name) <= 0:
            raise ValueError(f'{name} must be positive, got {getattr(config, name)}')


@dataclass(frozen=True)
class DiscoveryConfig:
    """How the fleet's DDS participants find each other. No `server`: ROS 2's simple discovery
    (every participant multicasts to every other: O(n²) traffic, fine for a few dozen). `server:
    HOST:PORT`: every participant asks a Fast DDS discovery server there instead (ROS_DISCOVERY_SERVER),
    which tells each only about the endpoints it uses. `start: true`: `mtf-grasp fleet` runs that
    server itself for the run (HOST must then be an address of this machine)."""

    server: str = ''
    start: bool = False

    def __post_init__(self):
        if self.server:
            host, port = split_address(self.server)
            if not host or not 0 < port < 65536:
                raise ValueError(f'server {self.server!r} is not HOST:PORT with a port in 1..65535')
        if self.start and not self.server:
            raise ValueError('start: true needs server: HOST:PORT (where to listen)')

    @property
    def environment(self) -> dict[str, str]:
        """What every node's process (and a tool that should see the fleet) needs in its environment."""
        return {'ROS_DISCOVERY_SERVER': self.server} if self.server else {}


def split_address(address: str) -> tuple[str, int]:
    """('host', port) of 'host:port'; port -1 when it is missing or not a number."""
    host, _, port = address.rpartition(':')
    return host, int(port) if port.isdigit() else -1


@dataclass(frozen=True)
class FleetConfig:
    experiment: str                        # experiment YAML, relative to the fleet file
    method: str = 'mtf_avg'
    rounds: int | None = None              # default: the experiment's federation.rounds
    seed: int | None = None                # default: the experiment's seed
    quick: bool = False                    # apply the experiment's quick: overrides
    data_root: str = ''                    # dataset root; default: the experiment's
    robots: int | None = None              # n when drawing the partition; default: the experiment's
    manifest: str = ''                     # partition manifest; empty: drawn from the experiment
    transport: TransportConfig = field(default_factory=TransportConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Every node of the plan: robots' clients and coordinators, and the server, which resumes
    # from its latest checkpoint. Only the server's failing for good fails the run.
    restarts: RestartPolicy = field(default_factory=RestartPolicy)
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    # Robots whose nodes (client and coordinator) share one OS process and executor: 1 in
    # deployment (each robot runs its own), more to simulate a large fleet on one machine.
    robots_per_process: int = 1
    # member id (robots and `server`) -> HMAC key file; relative files are under the run directory,
    # and missing ones there are generated, so every run of `mtf-grasp fleet` has its own keys.
    # `'*': DIR` stands for `MEMBER: DIR/MEMBER.key` for each member not listed (large fleets).
    roster: dict[str, str] = field(default_factory=dict)
    # Misbehaving robots to replay (federated/attacks.py), ROBOT:KIND[:FROM_ROUND] as for
    # `mtf-grasp experiment --attack`; `mtf-grasp fleet --attack` adds to them. Empty in deployment.
    attacks: tuple[str, ...] = ()
    # ROBOT:ROUND: that robot's nodes crash (SIGKILL) when the round starts, are restarted by the
    # restart policy and miss the round, as `mtf-grasp experiment --crash`; `--crash` adds to them.
    crashes: tuple[str, ...] = ()
    # How the server and coordinators aggregate a round's k models: `ordered` holds them all and
    # folds them in the plan's order, the floats of `mtf-grasp experiment` (O(k·|θ|) memory);
    # `streaming` folds each as it is admitted (O(|θ|); equal to the experiment up to float
    # rounding, since the sums run in arrival order). Defences that need every model at once
    # (robust aggregators, the direction check, audits) need `ordered`.
    aggregation: str = 'ordered'

    def __post_init__(self):
        if self.method not in TIERED_METHODS + FLAT_METHODS:
            raise ValueError(f'method {self.method!r} is not one of {", ".join(TIERED_METHODS + FLAT_METHODS)}')
        if self.rounds is not None and self.rounds < 1:
            raise ValueError(f'rounds must be at least 1, got {self.rounds}')
        if self.robots_per_process < 1:
            raise ValueError(f'robots_per_process must be at least 1, got {self.robots_per_process}')
        check_limits(self.transport, self.faults)
        for text in self.attacks:
            from mtf_grasp.federated.attacks import parse_attack   # torch: only when there are attacks

            try:
                attack = parse_attack(text)
            except ValueError as exc:
                raise ValueError(f'attacks: {exc}') from None
            if attack.kind == 'inflated_profile' and attack.from_round:
                raise ValueError(f'attacks: {text!r}: in the fleet a robot registers its profile once, so '
                                 'inflated_profile starts at round 0')
        for text in self.crashes:
            from mtf_grasp.federated.experiment import parse_crash   # torch: only when there are crashes

            try:
                parse_crash(text)
            except ValueError as exc:
                raise ValueError(f'crashes: {exc}') from None
        if self.crashes and self.robots_per_process > 1:
            raise ValueError('crashes: a crash kills the whole process, so it needs robots_per_process: 1')
        check_aggregation(self.aggregation)


def check_aggregation(value: str) -> None:
    """`aggregation` is one of AGGREGATIONS (the fleet config's and the nodes' parameter alike)."""
    if value not in AGGREGATIONS:
        raise ValueError(f'aggregation must be one of {", ".join(AGGREGATIONS)}, got {value!r}')


def streaming_conflict(defences) -> str | None:
    """Why `aggregation: streaming` cannot run with the experiment's `defences` (they need every
    model of a round at once), or None."""
    needing = [name for name, on in ((f'defences.aggregator {defences.aggregator!r}', defences.aggregator != 'mean'),
                                      ('defences.direction_z', defences.direction_z is not None),
                                      ('defences.fit_ratio', defences.fit_ratio is not None),
                                      ('defences.seed_ratio', defences.seed_ratio is not None),
                                      ('defences.step_ratio', defences.step_ratio is not None),
                                      ('defences.audit_rate', defences.audit_rate > 0)) if on]
    if not needing:
        return None
    return (f'aggregation: streaming cannot run with {", ".join(needing)}: they need every model of a round '
            "at once (use aggregation: ordered)")


@dataclass(frozen=True)
class FleetSetup:
    """Everything a fleet run needs, resolved: paths are absolute, rounds and seed are numbers."""

    config: FleetConfig
    experiment_path: Path
    data_root: Path
    manifest_path: Path
    robots: tuple[str, ...]
    rounds: int
    seed: int
    out_dir: Path
    roster: Roster
    attacks: tuple[str, ...] = ()   # resolved: ROBOT_ID:KIND:FROM_ROUND

    @property
    def report_dir(self) -> Path:
        return self.out_dir / 'records'

    @property
    def checkpoint_dir(self) -> Path:
        return self.out_dir / 'checkpoints'

    @property
    def summary_path(self) -> Path:
        return self.out_dir / 'summary.json'


def load_fleet_config(path: str | Path, *, rounds: int | None = None) -> FleetConfig:
    """Read a fleet YAML; `rounds` (from --rounds or rounds:=) overrides the file's."""
    config = from_mapping(FleetConfig, load_yaml(path), str(path))
    if rounds is not None:
        if rounds < 1:
            raise InputError(f'rounds: must be at least 1, got {rounds}')
        config = dataclasses.replace(config, rounds=rounds)
    return config


def prepare_fleet(config_path: str | Path, *, out_dir: str | Path, rounds: int | None = None,
                  robots: int | None = None, attacks: Sequence[str] = (), crashes: Sequence[str] = ()) -> FleetSetup:
    """Load the fleet config and its experiment, and fix the partition: the given manifest, or
    the experiment's own drawn from its seed and written to `out_dir/partition.json`.
    `rounds` and `robots` override the config's; `attacks` and `crashes` add to its own."""
    from mtf_grasp.federated.config import load_experiment_config

    config_path = Path(config_path).resolve()
    config = load_fleet_config(config_path, rounds=rounds)
    for option, field_name, extra in (('--attack', 'attacks', attacks), ('--crash', 'crashes', crashes)):
        if extra:
            try:
                config = dataclasses.replace(config, **{field_name: (*getattr(config, field_name), *extra)})
            except ValueError as exc:
                raise InputError(f'{option}: {str(exc).removeprefix(f"{field_name}: ")}') from None
    if robots is not None:
        config = dataclasses.replace(config, robots=robots)
    experiment_path = _relative_to(config_path, config.experiment, 'experiment')
    experiment = load_experiment_config(experiment_path, quick=config.quick, seed=config.seed)
    # Like `mtf-grasp experiment`, a relative data root is taken from the working directory.
    data_root = Path(config.data_root or experiment.data.root).resolve()
    experiment = dataclasses.replace(experiment, data=dataclasses.replace(experiment.data, root=str(data_root)))
    conflict = streaming_conflict(experiment.defences) if config.aggregation == 'streaming' else None
    if conflict:
        raise InputError(f'{config_path}: {conflict}')
    if config.robots is not None:
        if isinstance(experiment.federation.top_level, int) and not experiment.federation.top_level < config.robots:
            raise InputError(f'{config_path}: robots: {config.robots} robots cannot have '
                             f'j={experiment.federation.top_level} top-level robots and any low-level one')
        experiment = dataclasses.replace(experiment, partition=dataclasses.replace(
            experiment.partition, robots=config.robots))
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _relative_to(config_path, config.manifest, 'manifest') if config.manifest else None
    manifest_path, robots = fleet_manifest(experiment, manifest=manifest, out_dir=out_dir)
    roster = fleet_roster(config, source=f'{config_path}:roster', robots=robots, out_dir=out_dir)
    rounds = config.rounds or experiment.federation.rounds
    for text in config.crashes:
        from mtf_grasp.federated.experiment import parse_crash

        robot, index = parse_crash(text)
        if robot not in robots or not index < rounds:
            raise InputError(f'{config_path}: crashes: {text!r}: the robots are {", ".join(robots)} and the '
                             f'rounds 0..{rounds - 1}')
    return FleetSetup(config=config, experiment_path=experiment_path, data_root=data_root,
                      manifest_path=manifest_path, robots=tuple(robots), rounds=rounds, seed=experiment.seed,
                      out_dir=out_dir, roster=roster,
                      attacks=fleet_attacks(config.attacks, experiment, manifest=manifest_path, rounds=rounds,
                                            source=f'{config_path}: attacks'))


def fleet_attacks(texts: Sequence[str], experiment, *, manifest: Path, rounds: int, source: str) -> tuple[str, ...]:
    """The attacks on robot ids (`top:K`/`low:K` of round 0's MTF plan for the partition, as in
    `mtf-grasp experiment`), as ROBOT_ID:KIND:FROM_ROUND; InputError naming what does not hold."""
    if not texts:
        return ()
    from mtf_grasp.federated.attacks import parse_attack
    from mtf_grasp.federated.experiment import resolve_attacks
    from mtf_grasp.federated.workload import prepare_workload

    experiment = dataclasses.replace(experiment, federation=dataclasses.replace(experiment.federation, rounds=rounds))
    try:
        adversary = resolve_attacks([parse_attack(text) for text in texts], config=experiment,
                                    workload=prepare_workload(experiment, manifest=manifest))
    except ValueError as exc:
        raise InputError(f'{source}: {exc}') from None
    return tuple(str(attack) for attack in adversary.attacks)


def fleet_roster(config: FleetConfig, *, source: str, robots, out_dir: Path) -> Roster:
    """The config's roster, checked to hold the server and every robot of the partition, with a
    fresh key written for each member whose key file is missing (so demos and tests need no
    key handling; a deployed fleet names provisioned key files)."""
    from mtf_grasp.federated.roster import KEY_SUFFIX, roster_from_mapping, write_key_files

    if not config.roster:
        raise InputError(f'{source}: missing; list the server and every robot with its key file')
    listed = dict(config.roster)
    key_dir = listed.pop(ALL_MEMBERS, None)
    if key_dir is not None:
        listed = {member: f'{key_dir.rstrip("/")}/{member}{KEY_SUFFIX}' for member in (SERVER_ID, *robots)} | listed
    roster = roster_from_mapping(listed, source=source, base_dir=out_dir)
    absent = [member for member in (SERVER_ID, *robots) if member not in roster]
    if absent:
        raise InputError(f'{source}: no entry for {", ".join(absent)} (every fleet member needs a key)')
    for member, path in roster.key_files.items():
        if not path.exists():
            if path.name != f'{member}{KEY_SUFFIX}':
                raise InputError(f'{source}.{member}: key file {path} not found')
            with contextlib.suppress(FileExistsError):  # another node of this fleet made it first
                write_key_files([member], path.parent)
    roster.load_keys()  # unreadable, malformed or shared keys fail here, not in a node
    return roster


def _relative_to(config_path: Path, value: str, field_name: str) -> Path:
    path = (config_path.parent / value).resolve()
    if not path.is_file():
        raise InputError(f'{config_path}: {field_name}: no such file {path}')
    return path


def fleet_manifest(experiment, *, manifest: Path | None, out_dir: Path) -> tuple[Path, list[str]]:
    """The partition the fleet trains on and its robot ids: `manifest` as given, or the
    experiment's own partition drawn from its seed and saved as `out_dir/partition.json`."""
    from mtf_grasp.federated import Partition, id_order

    if manifest is None:
        from mtf_grasp.federated.workload import prepare_workload

        manifest = out_dir / 'partition.json'
        try:
            prepare_workload(experiment).partition.save(manifest)
        except ValueError as exc:
            raise InputError(f'cannot partition {experiment.data.root}: {exc}') from None
    robots = sorted(Partition.load(manifest).robots, key=id_order)
    return manifest, robots


def fleet_nodes(setup: FleetSetup) -> list[NodeSpec]:
    """The server, and per robot (in its own namespace) a client plus, for MTF methods, a tier
    coordinator. Node names are unique across namespaces so logs and processes are told apart."""
    config = setup.config
    transport = config.transport
    common = {
        'experiment': str(setup.experiment_path), 'quick': config.quick, 'seed': setup.seed,
        'data_root': str(setup.data_root), 'method': config.method, 'rounds': setup.rounds,
        'manifest': str(setup.manifest_path), 'report_dir': str(setup.report_dir),
        'service_timeout_s': transport.service_timeout_s, 'round_timeout_s': transport.round_timeout_s,
        'aggregation': config.aggregation, **dataclasses.asdict(config.faults),
    }
    # Each node gets its own copy of the robot list: a shared object would be written to the
    # params file as a YAML alias, which rcl's parser refuses.
    roster = [f'{member}={path}' for member, path in setup.roster.key_files.items()]

    def injected():   # rcl's parameter files cannot say an empty list; the nodes default to none
        return {name: list(values) for name, values in (('attacks', setup.attacks), ('crashes', config.crashes))
                if values}

    specs = [NodeSpec('fl_server', SERVER_NAME, restart=config.restarts, parameters={
        **common, **injected(), 'robots': list(setup.robots), 'roster': list(roster),
        'checkpoint_dir': str(setup.checkpoint_dir),
        'summary_file': str(setup.summary_path), 'registration_timeout_s': transport.registration_timeout_s})]
    roles = [('fl_client', 'client')] + ([('tier_coordinator', 'coordinator')] if config.method in TIERED_METHODS else [])
    # A robot that is down for good costs its rounds, not the run (deadlines and quorum).
    robot_nodes = [NodeSpec(executable, f'{robot}_{role}', namespace=robot, restart=config.restarts,
                            required=False, parameters={**common, **injected(), 'robots': list(setup.robots),
                                                        'roster': list(roster), 'robot_id': robot})
                   for robot in setup.robots for executable, role in roles]
    per_process = config.robots_per_process * len(roles)
    if per_process == len(roles):
        return specs + robot_nodes
    return specs + [NodeSpec('robot_group', f'robot_group_{start // per_process}', restart=config.restarts,
                             required=False, hosted=tuple(robot_nodes[start:start + per_process]))
                    for start in range(0, len(robot_nodes), per_process)]


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM stops the fleet as Ctrl-C does (every node stopped, the discovery server too) rather
    than leaving the nodes running without their runner. Only the main thread can take signals."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def add_restarts(summary_path: Path, records: list[dict]) -> dict:
    """Put the runner's restart records (mtf_grasp.restarts) into the server's summary.json."""
    import json

    summary = json.loads(summary_path.read_text())
    summary['restarts'] = records
    summary_path.write_text(json.dumps(summary, indent=2) + '\n')
    return summary


def clear_earlier_run(setup: FleetSetup) -> None:
    """Remove records and checkpoints of an earlier run in the same directory: a server resumes
    from its checkpoints only when it is restarted within this run."""
    for stale in [*setup.report_dir.glob('*.jsonl'), *setup.report_dir.glob('crash_*'),   # --crash markers
                  *setup.checkpoint_dir.glob('*'), setup.summary_path]:
        stale.unlink(missing_ok=True)


def run_fleet(setup: FleetSetup, *, echo=None, timeout_s: float | None = None,
              grace_s: float = 10.0) -> dict:
    """Run the plan as separate OS processes under a Supervisor (after starting the config's
    discovery server when it asks for one) until the server has finished its rounds (robots get
    `grace_s` to end on their own, then are stopped); return the summary
    the server wrote, with the restarts. Crashed nodes are restarted as `restarts:` says; a
    server that fails for good raises NodeFailed; Ctrl-C or SIGTERM stops them all."""
    import os

    from mtf_grasp.supervisor import Supervisor

    clear_earlier_run(setup)
    specs = fleet_nodes(setup)
    env = {'FASTDDS_BUILTIN_TRANSPORTS': os.environ.get('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA'),
           **setup.config.discovery.environment}
    names = [spec.name for spec in specs]
    with _terminate_as_interrupt(), discovery_server(setup.config.discovery, log_path=setup.out_dir / 'logs' / 'discovery_server.log'), \
            Supervisor(specs, workdir=setup.out_dir, env=env, echo=echo) as supervisor:
        # The server's current process: a restarted server is a new one.
        supervisor.wait(finished=names, until=lambda: supervisor.children[SERVER_NAME].proc.poll() == 0,
                        timeout=timeout_s)
        with contextlib.suppress(TimeoutError):
            supervisor.wait(finished=names, timeout=grace_s)
    return add_restarts(setup.summary_path, supervisor.restart_records())


def discovery_server_command(discovery: DiscoveryConfig) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of a Fast DDS discovery server (server id 0) listening at
    `discovery.server`: the wheels' `fast-discovery-server`, with their libraries on its path
    (its RPATH points outside the venv) and Fast DDS's default transports (its UDP port is not
    opened under FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA, which the nodes use)."""
    import os
    import shutil
    import socket
    import sys
    import sysconfig

    host, port = split_address(discovery.server)
    binary = shutil.which('fast-discovery-server') or str(Path(sys.executable).parent / 'fast-discovery-server')
    try:
        address = socket.gethostbyname(host)
    except OSError as exc:
        raise InputError(f'discovery.server: cannot resolve {host!r}: {exc}') from None
    libraries = [Path(binary).resolve().parent.parent / 'lib',
                 Path(sysconfig.get_paths()['purelib']) / 'ros_fastrtps.libs']
    env = {name: value for name, value in os.environ.items() if name != 'FASTDDS_BUILTIN_TRANSPORTS'}
    env['LD_LIBRARY_PATH'] = os.pathsep.join([*map(str, libraries), *filter(None, [env.get('LD_LIBRARY_PATH')])])
    return [binary, '-i', '0', '-l', address, '-p', str(port)], env


@contextlib.contextmanager
def discovery_server(discovery: DiscoveryConfig, *, log_path: Path, ready_timeout_s: float = 20.0):
    """Run a Fast DDS discovery server (the `fast-discovery-server` the ROS 2 wheels ship) listening
    at `discovery.server` for the block, when `discovery.start` asks for one; else do nothing."""
    if not discovery.start:
        yield None
        return
    import subprocess
    import time

    from mtf_grasp.supervisor import end_process

    argv, env = discovery_server_command(discovery)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open('w') as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + ready_timeout_s
        while 'Server is running' not in log_path.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                last = log_path.read_text().strip().splitlines()[-1:] or ['no output']
                raise InputError(f'discovery.server: no discovery server at {discovery.server} '
                                 f'({argv[0]}: {last[0]})')
            time.sleep(0.05)
        yield proc
    finally:
        end_process(proc, grace_s=2.0)
