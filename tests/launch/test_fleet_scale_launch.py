"""launch/fleet.launch.py with `robots_per_process` and a discovery server it starts itself: the
launched fleet of robot_group processes ends with the experiment's model."""
import os
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
from fleet_testdata import (assert_same_state, experiment_rounds, fleet_final_state, free_udp_port,  # noqa: E402
                            scale_out, write_configs, write_jacquard_boxes)

LAUNCH_FILE = Path(__file__).resolve().parents[2] / 'launch' / 'fleet.launch.py'
pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.fixture
def fleet_dir(tmp_path):
    data = write_jacquard_boxes(tmp_path / 'data', samples=40)
    config = write_configs(tmp_path, data=data, robots=4, rounds=1)
    scale_out(config, robots_per_process=2, discovery={'server': f'127.0.0.1:{free_udp_port()}', 'start': True})
    return tmp_path


@pytest.fixture
def ended():
    return threading.Event()


@launch_pytest.fixture
def fleet_launch(fleet_dir, ended):
    arguments = {'config': str(fleet_dir / 'fleet.yaml'), 'out': str(fleet_dir / 'run')}
    return LaunchDescription([
        RegisterEventHandler(OnShutdown(on_shutdown=lambda event, context: ended.set())),
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(LAUNCH_FILE)), launch_arguments=arguments.items()),
        ReadyToTest(),
    ])


@pytest.mark.launch(fixture=fleet_launch)
def test_launched_robot_groups_behind_a_discovery_server_end_with_the_experiments_model(fleet_dir, ended):
    assert ended.wait(timeout=240), 'the launched fleet did not end within 240 s'
    assert (fleet_dir / 'run' / 'summary.json').exists(), 'the server did not finish'
    # The nodes got the discovery server in their own environment; this process (later tests) did not.
    assert 'ROS_DISCOVERY_SERVER' not in os.environ
    state, _, _ = experiment_rounds(fleet_dir / 'experiment.yaml', fleet_dir / 'run' / 'partition.json', 'mtf_avg')
    assert_same_state(fleet_final_state(fleet_dir / 'run', 1), state)
