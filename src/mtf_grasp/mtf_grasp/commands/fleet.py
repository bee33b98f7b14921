"""`mtf-grasp fleet`: the real multi-process ROS 2 fleet of a fleet config, under a supervisor."""
from __future__ import annotations

import math
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        'fleet', help='run the ROS 2 fleet (server, tier coordinators, clients) as separate processes',
        description='Starts every node of the fleet plan as its own process, or the config\'s '
                    'robots_per_process robots\' nodes per process (logs prefixed with the node or '
                    'process name, kept in DIR/logs), and a discovery server when the config\'s discovery: '
                    'asks for one; waits for the rounds to finish and writes '
                    'DIR/summary.json. Only the roster\'s members take part: their models are signed '
                    'with HMAC keys (missing relative key files are generated in DIR/keys). '
                    'A crashed node (killed by a signal) is restarted as the config\'s restarts: say, '
                    'the server from its latest checkpoint; a robot node that keeps crashing is left '
                    'down and the fleet goes on; the run fails only when the server cannot go on '
                    '(DIR/logs/supervisor.log). Ctrl-C or SIGTERM stops every node.')
    parser.add_argument('--config', required=True, help='fleet YAML (e.g. config/fleet.yaml)')
    parser.add_argument('--rounds', type=int, default=None, help="override the config's rounds")
    parser.add_argument('--out', required=True, metavar='DIR', help='run directory')
    parser.add_argument('--timeout', type=float, default=None,
                        help='seconds after which the run is stopped and fails (default: none)')
    parser.add_argument('--quiet', action='store_true', help='keep node output in DIR/logs only')
    parser.add_argument('--crash', action='append', default=[], metavar='ROBOT:ROUND',
                        help="that robot's nodes crash (SIGKILL) when the round (0-based) starts, are restarted "
                             'and miss it, as under mtf-grasp experiment --crash (repeatable)')
    parser.add_argument('--attack', action='append', default=[], metavar='ROBOT:KIND[:FROM_ROUND]',
                        help="a misbehaving robot to replay, added to the config's attacks: (repeatable; as "
                             'for mtf-grasp experiment; ROBOT may be top:K or low:K of round 0\'s plan); the '
                             "defences' decisions go to summary.json")
    parser.set_defaults(run=run)


def run(args) -> int:
    from mtf_grasp.fleet import fleet_nodes, prepare_fleet, run_fleet
    from mtf_grasp.supervisor import NodeFailed

    setup = prepare_fleet(args.config, out_dir=args.out, rounds=args.rounds, attacks=args.attack, crashes=args.crash)
    key_dirs = sorted({str(path.parent) for path in setup.roster.key_files.values()})
    print(f'fleet: {len(fleet_nodes(setup))} processes, {len(setup.robots)} robots, {setup.config.method}, '
          f'{setup.rounds} rounds; logs in {setup.out_dir / "logs"}; '
          f'{len(setup.roster.ids)} roster keys in {", ".join(key_dirs)}'
          + ''.join(f'; attack {attack}' for attack in setup.attacks)
          + ''.join(f'; crash {crash}' for crash in setup.config.crashes), flush=True)
    try:
        summary = run_fleet(setup, echo=None if args.quiet else sys.stdout, timeout_s=args.timeout)
    except (NodeFailed, TimeoutError) as exc:
        print(f'mtf-grasp fleet: error: {exc} (logs in {setup.out_dir / "logs"})', file=sys.stderr)
        return 1
    print(format_rounds(summary))
    print(f'summary: {setup.summary_path}')
    return 0


def format_rounds(summary: dict) -> str:
    """A per-round table of accuracy, participants, traffic and time."""
    lines = [f'{"round":>5}  {"accuracy":>8}  {"robots":>6}  {"sent MB":>8}  {"recv MB":>8}  '
             f'{"time s":>7}  {"train s":>7}  {"overhead s":>10}']
    for r in summary['rounds']:
        accuracy = r['global_accuracy']
        lines.append(f'{r["round"]:>5}  {"n/a" if math.isnan(accuracy) else f"{accuracy:.3f}":>8}  '
                     f'{len(r["participants"]):>6}  {r["bytes_sent"] / 1e6:>8.2f}  '
                     f'{r["bytes_received"] / 1e6:>8.2f}  {r["duration_s"]:>7.1f}  '
                     f'{r["training_s"]:>7.1f}  {r["overhead_s"]:>10.2f}')
    lines.append(f'final accuracy {summary["final_accuracy"]:.3f} ({summary["method"]})')
    for entry in summary.get('restarts', []):
        lines.append(f'{entry["node"]}: {len(entry["exits"])} crash(es) ({", ".join(entry["exits"])}), '
                     f'{entry["count"]} restart(s)' + ('; left down' if entry['left_down'] else ''))
    return '\n'.join(lines)
