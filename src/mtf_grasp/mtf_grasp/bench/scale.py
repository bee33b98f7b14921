"""How the real fleet scales with the number of robots n: discovery, rounds, overhead, server memory, traffic.

For each n (and each discovery mode) a whole fleet runs as `mtf-grasp fleet` would, from the fleet
config with `robots: n`: several robots per process as the config says, and either ROS 2's simple
discovery or a Fast DDS discovery server started for the run on a free loopback port. Per run:
`registration_s`, seconds from the server's start until every robot had registered (process start,
discovery, registration); the mean round wall time, its training on the critical path and the
overhead outside training and evaluation (after the first round, which warms up), and the
server's and the busiest coordinator's own work in it, timed directly as wall time (`work_ratio`:
their sum over the round) and as the CPU time of the threads doing it (`work_cpu_ratio`; on a
machine simulating many robots the wall time includes waiting for a core or the GIL); the round
split along the chain of events that ended it (`timeline_s`, nodes/fleet/round_timeline.py:
transfers, time before each training, its CPU time and its wait for a core); the server's peak
RSS; the bytes of all model transfers per round against 2·n·|θ|; the DDS participants (one per
process).
"""
from __future__ import annotations

import dataclasses
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

from mtf_grasp.fleet import AGGREGATIONS, FLAT_METHODS, TIERED_METHODS

DEFAULT_CONFIG = 'config/fleet_scale.yaml'
MODES = ('simple', 'server')


def add_arguments(parser) -> None:
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='fleet YAML (default: %(default)s)')
    parser.add_argument('--robots', type=_sizes, default=[7, 25, 50], metavar='N,N,...',
                        help='fleet sizes n, comma-separated (default: 7,25,50)')
    parser.add_argument('--rounds', type=int, default=2, help='rounds per fleet; the first is not counted')
    parser.add_argument('--discovery', choices=[*MODES, 'both'], default='both',
                        help='simple discovery, a discovery server, or each in turn (default)')
    parser.add_argument('--robots-per-process', type=int, default=None,
                        help="robots whose nodes share a process (default: the config's)")
    parser.add_argument('--method', choices=[*TIERED_METHODS, *FLAT_METHODS], default=None,
                        help="the fleet's method (default: the config's)")
    parser.add_argument('--aggregation', choices=AGGREGATIONS, default=None,
                        help="hold a round's models and fold them in order, or fold each as it arrives "
                             "(default: the config's)")
    parser.add_argument('--top-level', type=_top_level_rule, default=None, metavar='J|sqrt',
                        help="top-level robots j for every n: a number or 'sqrt' (default: the experiment's)")
    parser.add_argument('--out', default=None, help='keep each run under DIR/n<N>-<mode> (default: temporary)')
    parser.add_argument('--plot', default=None, metavar='PNG',
                        help='also draw overhead, server RSS and registration time against n (log-log)')


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(',') if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 2:
        import argparse
        raise argparse.ArgumentTypeError(f'{text!r} is not a comma-separated list of fleet sizes ≥ 2')
    return sizes


def _top_level_rule(text: str) -> int | str:
    if text == 'sqrt' or (text.isdigit() and int(text) >= 1):
        return text if text == 'sqrt' else int(text)
    import argparse
    raise argparse.ArgumentTypeError(f"{text!r} is not a number of top-level robots >= 1 or 'sqrt'")


def run(args) -> dict:
    modes = MODES if args.discovery == 'both' else (args.discovery,)
    runs = []
    with tempfile.TemporaryDirectory(prefix='mtf-bench-scale-') as scratch:
        for n in args.robots:
            for mode in modes:
                out = Path(args.out or scratch) / f'n{n}-{mode}'
                runs.append(measure_fleet(args.config, robots=n, rounds=args.rounds, discovery=mode,
                                          robots_per_process=args.robots_per_process, out=out,
                                          top_level=args.top_level, method=args.method,
                                          aggregation=args.aggregation))
    if args.plot:
        plot_scaling(runs, Path(args.plot))
    from mtf_grasp.grasping.device import describe_machine

    return {'config': args.config, 'rounds': args.rounds, 'method': runs[0]['method'] if runs else args.method,
            'top_level_rule': args.top_level, 'cpu': describe_machine('cpu', 'fp32')['cpu'],
            'cpu_count': os.cpu_count(), 'runs': runs}


def plot_scaling(runs: list[dict], path: Path) -> None:
    """Three log-log panels against n, one line per discovery mode."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    panels = [('overhead_s', 'round overhead outside training (s)'), ('server_peak_rss_mb', 'server peak RSS (MB)'),
              ('registration_s', 'time until every robot registered (s)')]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    for axis, (key, label) in zip(axes, panels):
        for mode in MODES:
            points = [(r['robots'], r[key]) for r in runs if r['discovery'] == mode and r[key] > 0]
            if points:
                axis.plot(*zip(*points), marker='o', label=f'{mode} discovery')
        axis.set(xscale='log', yscale='log', xlabel='robots n', title=label)
        axis.grid(True, which='both', alpha=0.3)
    axes[0].legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def measure_fleet(config: str, *, robots: int, rounds: int, discovery: str, robots_per_process: int | None,
                  out: Path, top_level: int | str | None = None, method: str | None = None,
                  aggregation: str | None = None) -> dict:
    from mtf_grasp.fleet import DiscoveryConfig, fleet_nodes, prepare_fleet, run_fleet

    setup = prepare_fleet(config, out_dir=out, rounds=rounds, robots=robots)
    if top_level is not None:
        setup = dataclasses.replace(setup, experiment_path=with_top_level(setup.experiment_path, top_level, out))
    fleet = setup.config
    fleet = dataclasses.replace(
        fleet, method=method or fleet.method, robots_per_process=robots_per_process or fleet.robots_per_process,
        aggregation=aggregation or fleet.aggregation,
        discovery=DiscoveryConfig(server=f'127.0.0.1:{_free_udp_port()}', start=True) if discovery == 'server'
        else DiscoveryConfig())
    setup = dataclasses.replace(setup, config=fleet)
    processes = len(fleet_nodes(setup))
    started = time.perf_counter()
    summary = run_fleet(setup, echo=None)
    wall_s = time.perf_counter() - started
    counted = summary['rounds'][1:] or summary['rounds']
    mean = {key: statistics.mean(r[key] for r in counted)
            for key in ('duration_s', 'training_s', 'overhead_s', 'server_work_s', 'coordinator_work_s',
                        'server_work_cpu_s', 'coordinator_work_cpu_s')}
    theta = _model_bytes(setup)
    per_round = _bytes_moved(setup.report_dir, rounds=len(summary['rounds']))
    return {
        'robots': robots, 'method': fleet.method, 'aggregation': fleet.aggregation, 'discovery': discovery,
        'robots_per_process': fleet.robots_per_process,
        'processes': processes,
        # rclpy makes one DDS participant per process (context); the discovery server is one more.
        'dds_participants': processes + (discovery == 'server'),
        'top_level': _top_level(setup) if fleet.method in TIERED_METHODS else 0,
        'registration_s': round(summary['registration_s'], 3),
        'round_s': round(mean['duration_s'], 3), 'training_s': round(mean['training_s'], 3),
        'overhead_s': round(mean['overhead_s'], 3), 'overhead_ratio': round(mean['overhead_s'] / mean['duration_s'], 4),
        'server_work_s': round(mean['server_work_s'], 3), 'coordinator_work_s': round(mean['coordinator_work_s'], 3),
        'work_ratio': round((mean['server_work_s'] + mean['coordinator_work_s']) / mean['duration_s'], 4),
        'server_work_cpu_s': round(mean['server_work_cpu_s'], 3),
        'coordinator_work_cpu_s': round(mean['coordinator_work_cpu_s'], 3),
        'work_cpu_ratio': round((mean['server_work_cpu_s'] + mean['coordinator_work_cpu_s']) / mean['duration_s'], 4),
        'timeline_s': mean_timeline([r['timeline'] for r in counted]),
        'server_peak_rss_mb': round(max(r['server_peak_rss_mb'] for r in summary['rounds']), 1),
        'model_bytes': theta, 'bytes_per_round': per_round, 'bytes_expected': 2 * robots * theta,
        'final_accuracy': summary['final_accuracy'], 'wall_s': round(wall_s, 1),
    }


def mean_timeline(timelines: list[dict | None]) -> dict[str, float] | None:
    """Mean seconds per segment over rounds; a segment a round lacks (a cluster without members
    has no fine-tuning) counts 0 there, so the means still add up to the mean round."""
    if not timelines or None in timelines:
        return None
    names = list(dict.fromkeys(name for timeline in timelines for name in timeline))
    return {name: round(statistics.mean(t.get(name, 0.0) for t in timelines), 3) for name in names}


def with_top_level(experiment: Path, top_level: int | str, out: Path) -> Path:
    """An experiment YAML in `out` that extends `experiment` with `federation.top_level` (every
    node of the fleet reads it, so the whole fleet plans with that j)."""
    import yaml

    path = out / 'experiment_top_level.yaml'
    path.write_text(yaml.safe_dump({'extends': str(Path(experiment).resolve()),
                                    'federation': {'top_level': top_level}}))
    return path


def _bytes_moved(report_dir: Path, *, rounds: int) -> list[int]:
    """Per round, the payload bytes of every model transfer (each recorded once, by its receiver):
    server → coordinators, seeds → members, members → coordinators, clusters → server."""
    from mtf_grasp.nodes.fleet.round_report import read_records

    moved = [0] * rounds
    for record in read_records(report_dir):
        if record['kind'] == 'transfer' and record['round'] < rounds:
            moved[record['round']] += record['payload_bytes']
    return moved


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _experiment(setup):
    from mtf_grasp.federated.config import load_experiment_config

    return load_experiment_config(setup.experiment_path, quick=setup.config.quick, seed=setup.seed)


def _model_bytes(setup) -> int:
    """|θ| on the wire: the payload of the initial model in the config's encoding."""
    from mtf_grasp.federated import encode_state
    from mtf_grasp.federated.experiment import initial_state

    config = _experiment(setup)
    return len(encode_state(initial_state(config), spec=config.model, dtype=config.federation.encoding).payload)


def _top_level(setup) -> int:
    from mtf_grasp.federated.planning import resolve_top_level

    return resolve_top_level(_experiment(setup).federation.top_level, len(setup.robots))
