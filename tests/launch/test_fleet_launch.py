"""launch/fleet.launch.py on a full ROS 2 install: the launched fleet finishes and writes its summary.

pip-installed ROS 2 has no `launch`/`launch_pytest`; there `mtf-grasp fleet` runs the same plan
and tests/ros/test_fleet.py covers it.
"""
import asyncio
import json
import sys
from pathlib import Path

import pytest

launch_pytest = pytest.importorskip(
    'launch_pytest', reason='launch_pytest is not importable (ROS 2 from pip has no launch); '
                            'these tests run on a full ROS 2 install or in the Docker image')

from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from launch_testing.actions import ReadyToTest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'ros'))
from fleet_testdata import write_configs, write_jacquard_boxes  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[2] / 'launch' / 'fleet.launch.py'
pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.fixture
def fleet_dir(tmp_path):
    data = write_jacquard_boxes(tmp_path / 'data', samples=40)
    write_configs(tmp_path, data=data, robots=4, rounds=2)
    return tmp_path


@launch_pytest.fixture
def fleet_launch(fleet_dir):
    arguments = {'config': str(fleet_dir / 'fleet.yaml'), 'rounds': '1', 'out': str(fleet_dir / 'run')}
    return LaunchDescription([
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
                                 launch_arguments=arguments.items()),
        ReadyToTest(),
    ])


@pytest.mark.launch(fixture=fleet_launch)
async def test_launched_fleet_runs_the_rounds_given_by_the_launch_argument(fleet_dir):
    summary_path = fleet_dir / 'run' / 'summary.json'
    for _ in range(240):
        if summary_path.exists():
            break
        await asyncio.sleep(1.0)
    summary = json.loads(summary_path.read_text())
    assert [r['round'] for r in summary['rounds']] == [0]  # rounds:=1 overrides the config's 2
    assert summary['rounds'][0]['participants'] == ['robot_0', 'robot_1', 'robot_2', 'robot_3']
