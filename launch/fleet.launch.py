"""The MTF-Grasp fleet on a full ROS 2 install: `ros2 launch mtf_grasp fleet.launch.py
config:=FILE rounds:=R out:=DIR`. Nodes, names, namespaces and parameters come from the fleet
plan (`mtf_grasp.fleet`), the same plan `mtf-grasp fleet` runs; the launch ends when the server
has finished its rounds and written DIR/summary.json.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration

from mtf_grasp.fleet import SERVER_NAME, fleet_nodes, prepare_fleet
from mtf_grasp.plan import launch_actions


def _fleet(context):
    rounds = LaunchConfiguration('rounds').perform(context)
    setup = prepare_fleet(LaunchConfiguration('config').perform(context),
                          out_dir=LaunchConfiguration('out').perform(context),
                          rounds=int(rounds) if rounds else None)
    specs = fleet_nodes(setup)
    nodes = launch_actions(specs)
    server = nodes[[spec.name for spec in specs].index(SERVER_NAME)]
    done = RegisterEventHandler(OnProcessExit(
        target_action=server, on_exit=[EmitEvent(event=Shutdown(reason='the fleet server finished'))]))
    return [*nodes, done]


def generate_launch_description():
    share = get_package_share_directory('mtf_grasp')
    return LaunchDescription([
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'fleet.yaml'),
                              description='fleet YAML (nodes, experiment, transport)'),
        DeclareLaunchArgument('rounds', default_value='', description="override the config's rounds"),
        DeclareLaunchArgument('out', default_value='runs/fleet',
                              description='run directory: partition, records, checkpoints, summary.json'),
        OpaqueFunction(function=_fleet),
    ])
