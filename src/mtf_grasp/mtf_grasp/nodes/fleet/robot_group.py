"""robot_group: several robots' fleet nodes (fl_client, tier_coordinator) in one OS process, on one
executor, so a workstation can run a fleet of hundreds of simulated robots with a few processes
(and a few DDS participants: one per process). A deployed robot runs its own nodes instead.

    robot_group fl_client:/robot_0/robot_0_client tier_coordinator:/robot_0/robot_0_coordinator ...
        --ros-args --params-file PARAMS

Each node is built under its given namespace and name and reads its parameters from the params
file under that fully qualified name, exactly as it would in a process of its own; it computes
the same as there (the fleet plan, mtf_grasp.fleet, with `robots_per_process`).
"""
from __future__ import annotations

import sys

from rclpy.utilities import remove_ros_args

from mtf_grasp.nodes.fleet.fl_client import FlClient
from mtf_grasp.nodes.fleet.tier_coordinator import TierCoordinator
from mtf_grasp.nodes.runtime import run_fleet_nodes
from mtf_grasp.plan import parse_hosted

HOSTABLE = {'fl_client': FlClient, 'tier_coordinator': TierCoordinator}


def main(args=None) -> None:
    argv = sys.argv if args is None else args
    factories = []
    for argument in remove_ros_args(argv)[1:]:
        try:
            executable, namespace, name = parse_hosted(argument)
            node_class = HOSTABLE[executable]
        except (ValueError, KeyError):
            _bad_input(f'{argument!r} is not NODE:/NAMESPACE/NAME with NODE one of {", ".join(HOSTABLE)}')
        factories.append(lambda c=node_class, n=name, ns=namespace: c(n, ns))
    if not factories:
        _bad_input('no nodes to run (give NODE:/NAMESPACE/NAME arguments)')
    run_fleet_nodes(factories, args=args)


def _bad_input(message: str) -> None:
    print(f'robot_group: error: {message}', file=sys.stderr)
    sys.exit(2)  # bad input, as the fleet nodes' own (nodes/runtime.py)


if __name__ == '__main__':
    main()
