"""The MTF-Grasp fleet on a full ROS 2 install: `ros2 launch mtf_grasp fleet.launch.py
config:=FILE rounds:=R out:=DIR [nodes:=NAME,NAME]`. Nodes, names, namespaces and parameters come
from the fleet plan (`mtf_grasp.fleet`), the same plan `mtf-grasp fleet` runs; the launch ends when
the server has finished its rounds and written DIR/summary.json (with the restarts). Crashed nodes
are restarted as the config's `restarts:` says, by the same RestartTracker `mtf-grasp fleet` uses;
a robot node that keeps crashing is left down, a server that cannot go on fails the launch.
`nodes:=` starts only the named nodes of the plan, for fleets spread over several machines or
containers (docker/compose.yaml). With `discovery: {server: HOST:PORT}` every node is pointed at
that discovery server; with `start: true` the launch that starts fl_server starts the server too.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, ExecuteProcess, LogInfo, OpaqueFunction
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration

from mtf_grasp.fleet import (SERVER_NAME, add_restarts, clear_earlier_run, discovery_server_command, fleet_nodes,
                             prepare_fleet)
from mtf_grasp.plan import launch_actions
from mtf_grasp.restarts import Outcome, restart_records


def _fleet(context):
    rounds = LaunchConfiguration('rounds').perform(context)
    setup = prepare_fleet(LaunchConfiguration('config').perform(context),
                          out_dir=LaunchConfiguration('out').perform(context),
                          rounds=int(rounds) if rounds else None)
    specs = fleet_nodes(setup)
    wanted = [name for name in LaunchConfiguration('nodes').perform(context).split(',') if name]
    unknown = sorted(set(wanted) - {spec.name for spec in specs})
    if unknown:
        raise RuntimeError(f'nodes:= names no node of the fleet plan: {", ".join(unknown)} '
                           f'(plan: {", ".join(spec.name for spec in specs)})')
    if wanted:
        specs = [spec for spec in specs if spec.name in wanted]
    discovery = setup.config.discovery
    prelude = []
    if SERVER_NAME in {spec.name for spec in specs}:
        clear_earlier_run(setup)
        if discovery.start:
            argv, env = discovery_server_command(discovery)
            prelude.append(ExecuteProcess(cmd=argv, env=env, output='screen'))

    def ended(spec, decision, trackers):
        if spec.name != SERVER_NAME:
            return ([] if decision.outcome is Outcome.FINISHED
                    else [LogInfo(msg=f'restarts: {decision.message}; the fleet goes on without it')])
        if decision.outcome is not Outcome.FINISHED:
            raise RuntimeError(f'the fleet server cannot go on: {decision.message}')  # fails the launch
        add_restarts(setup.summary_path, restart_records(trackers))
        return [EmitEvent(event=Shutdown(reason='the fleet server finished'))]

    return prelude + launch_actions(specs, on_end=ended, env=discovery.environment)


def generate_launch_description():
    share = get_package_share_directory('mtf_grasp')
    return LaunchDescription([
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'fleet.yaml'),
                              description='fleet YAML (nodes, experiment, transport)'),
        DeclareLaunchArgument('rounds', default_value='', description="override the config's rounds"),
        DeclareLaunchArgument('out', default_value='runs/fleet',
                              description='run directory: partition, records, checkpoints, summary.json'),
        DeclareLaunchArgument('nodes', default_value='',
                              description='comma-separated node names to start (default: all)'),
        OpaqueFunction(function=_fleet),
    ])
