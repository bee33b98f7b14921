"""launch/fleet.launch.py run by launch_pytest: the launched fleet ends with the global model that
`mtf-grasp fleet` reaches on the same config, and `rounds:=` overrides the config's rounds."""
import json
import sys
import threading
from pathlib import Path

import pytest

launch_pytest = pytest.importorskip(
    'launch_pytest', reason='launch_pytest is not importable: `make setup` builds it from '
                            '../shared/ros2-from-source where that folder exists (docs/testing.md)')

from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription, RegisterEventHandler  # noqa: E402
from launch.event_handlers import OnShutdown  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from launch_testing.actions import ReadyToTest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'ros'))
from fleet_testdata import (assert_same_state, fleet_final_state, run_fleet, write_configs,  # noqa: E402
                            write_jacquard_boxes)

LAUNCH_FILE = Path(__file__).resolve().parents[2] / 'launch' / 'fleet.launch.py'
ROBOTS = ['robot_0', 'robot_1', 'robot_2', 'robot_3']
pytestmark = [pytest.mark.ros, pytest.mark.slow]


class Ended(threading.Event):
    """Set by the launch's shutdown, with its reason: the test waits on it, not on a clock."""
    reason = None


@pytest.fixture
def fleet_dir(tmp_path, ros_processes):
    data = write_jacquard_boxes(tmp_path / 'data', samples=40)
    write_configs(tmp_path, data=data, robots=4, rounds=2)
    # The reference: `mtf-grasp fleet` on the same config, finished (its nodes ended) before the
    # launch starts nodes of the same names on the same domain.
    run_fleet(ros_processes, tmp_path / 'fleet.yaml', tmp_path / 'cli', rounds=1)
    return tmp_path


@pytest.fixture
def ended():
    return Ended()


@launch_pytest.fixture
def fleet_launch(fleet_dir, ended):
    def on_shutdown(event, context):
        ended.reason = event.reason
        ended.set()

    arguments = {'config': str(fleet_dir / 'fleet.yaml'), 'rounds': '1', 'out': str(fleet_dir / 'run')}
    return LaunchDescription([
        RegisterEventHandler(OnShutdown(on_shutdown=on_shutdown)),
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(LAUNCH_FILE)), launch_arguments=arguments.items()),
        ReadyToTest(),
    ])


@pytest.mark.launch(fixture=fleet_launch)
def test_launched_fleet_ends_with_the_global_model_of_mtf_grasp_fleet(fleet_dir, ended):
    assert ended.wait(timeout=240), 'the launched fleet did not end within 240 s'
    assert ended.reason == 'the fleet server finished'
    launched, cli = (json.loads((fleet_dir / run / 'summary.json').read_text()) for run in ('run', 'cli'))
    assert [r['round'] for r in launched['rounds']] == [0]       # rounds:=1 overrides the config's 2
    assert launched['rounds'][0]['participants'] == ROBOTS
    # Same nodes and data; the server averages in arrival order, so equal up to float rounding.
    assert_same_state(fleet_final_state(fleet_dir / 'run', 1), fleet_final_state(fleet_dir / 'cli', 1))
    assert launched['final_accuracy'] == pytest.approx(cli['final_accuracy'])
    assert [r['bytes_sent'] for r in launched['rounds']] == [r['bytes_sent'] for r in cli['rounds']]
