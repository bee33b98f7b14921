"""`mtf-grasp bag from-dataset|play`: datasets as rosbag2 camera streams, and their replay."""
from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser('bag', help='write datasets as rosbag2 and replay them')
    verbs = parser.add_subparsers(dest='verb', required=True, metavar='VERB')

    write = verbs.add_parser('from-dataset', help='write a Cornell/Jacquard/SimGrasp folder as a rosbag2 '
                             '(colour, aligned depth, camera_info, ground-truth grasps)')
    write.add_argument('root', help='dataset folder')
    write.add_argument('--out', required=True, help='bag directory to create')
    write.add_argument('--storage', choices=('mcap', 'sqlite3'), default='mcap', help='rosbag2 storage (default: mcap)')
    write.add_argument('--format', dest='fmt', choices=('auto', 'cornell', 'jacquard', 'simgrasp'), default='auto')
    write.add_argument('--period', type=float, default=0.1, help='seconds between frames (default: 0.1)')
    write.add_argument('--limit', type=int, default=None, help='write only the first N samples')
    write.add_argument('--json', action='store_true', help='print a JSON summary')
    write.set_defaults(run=_from_dataset)

    play = verbs.add_parser('play', help='publish a bag over ROS 2 (raw CDR) at the recorded or a scaled rate')
    play.add_argument('bag', help='bag directory')
    play.add_argument('--rate', type=float, default=1.0, help='playback speed factor (default: 1.0)')
    play.add_argument('--loop', action='store_true', help='repeat until interrupted')
    play.add_argument('--namespace', default='', help="robot namespace, e.g. 'robot_0'")
    play.add_argument('--wait-subscribers', type=int, default=0,
                      help='wait until every topic has this many subscribers before playing')
    play.set_defaults(run=_play)


def _from_dataset(args) -> int:
    from mtf_grasp.bags import write_dataset_bag

    summary = write_dataset_bag(args.root, args.out, storage=args.storage, fmt=args.fmt, period_s=args.period,
                                limit=args.limit, progress=not args.json)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f'wrote {summary["frames"]} {summary["format"]} frames to {summary["bag"]} ({summary["storage"]})')
    return 0


def _play(args) -> int:
    """The bag_replayer node, run in this process with the options as its parameters."""
    from rclpy.parameter import Parameter

    from mtf_grasp.errors import InputError
    from mtf_grasp.nodes.perception.bag_replayer import BagReplayer
    from mtf_grasp.nodes.runtime import run_node

    if args.rate <= 0:
        raise InputError(f'--rate: must be > 0, got {args.rate}')
    parameters = {'bag_path': args.bag, 'rate': args.rate, 'loop': args.loop,
                  'wait_for_subscribers': args.wait_subscribers}
    overrides = [Parameter(name, value=value) for name, value in parameters.items()]
    return run_node('mtf-grasp bag', lambda: BagReplayer(namespace=args.namespace, parameter_overrides=overrides),
                    work=BagReplayer.play)
