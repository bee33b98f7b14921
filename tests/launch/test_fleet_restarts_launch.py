"""`ros2 launch mtf_grasp fleet.launch.py` restarts a robot node killed from outside (SIGKILL on
its process, found in the process table) and the launch completes its rounds, recording the restart
in summary.json, as `mtf-grasp fleet` does (tests/ros/test_faults.py)."""
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml

launch_pytest = pytest.importorskip(
    'launch_pytest', reason='launch_pytest is not importable (ROS 2 from pip has no launch); '
                            'these tests run on a full ROS 2 install or in the Docker image')

from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from launch_testing.actions import ReadyToTest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'ros'))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fleet_testdata import planned_round, write_configs, write_jacquard_boxes  # noqa: E402
from outside import kill_leftovers, node_pid, resume_all  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[2] / 'launch' / 'fleet.launch.py'
pytestmark = [pytest.mark.ros, pytest.mark.slow]
TIMEOUT_S = 400


@pytest.fixture
def fleet_dir(tmp_path):
    data = write_jacquard_boxes(tmp_path / 'data', samples=40)
    config = write_configs(tmp_path, data=data, robots=4, rounds=2,
                           faults={'tier_deadline_s': 30, 'round_deadline_s': 45, 'retries': 10},
                           transport={'service_timeout_s': 8})
    config.write_text(yaml.safe_dump({**yaml.safe_load(config.read_text()),
                                      'restarts': {'delay_s': 1.0, 'max_crashes': 3, 'window_s': 300}}))
    yield tmp_path
    kill_leftovers(resume_all(os.getpid()))  # whatever the launch left behind


@launch_pytest.fixture
def fleet_launch(fleet_dir):
    arguments = {'config': str(fleet_dir / 'fleet.yaml'), 'out': str(fleet_dir / 'run')}
    return LaunchDescription([
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
                                 launch_arguments=arguments.items()),
        ReadyToTest(),
    ])


async def _until(condition, what: str) -> None:
    for _ in range(int(TIMEOUT_S / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f'{what} within {TIMEOUT_S} s')


@pytest.mark.launch(fixture=fleet_launch)
async def test_a_robot_node_killed_from_outside_is_respawned_and_the_launch_completes(fleet_dir):
    run = fleet_dir / 'run'
    await _until(lambda: (run / 'partition.json').exists(), 'the launch drew no partition')
    plan = planned_round(fleet_dir / 'experiment.yaml', run / 'partition.json', 'mtf_avg', 0)
    robot = next(m for members in plan.clusters.values() for m in members)
    records = run / 'records' / f'{robot}.client.jsonl'
    # Mid-round: it holds its seed model and trains.
    await _until(lambda: records.exists() and '"transfer"' in records.read_text(), f'{robot} fetched no seed')
    killed = node_pid(f'{robot}_client', under=os.getpid(), timeout_s=0)
    os.kill(killed, signal.SIGKILL)
    await _until(lambda: node_pid_or_none(f'{robot}_client', other_than=killed), f'{robot}_client was not respawned')
    summary_path = run / 'summary.json'
    await _until(lambda: summary_path.exists() and 'restarts' in summary_path.read_text(),
                 'the launch wrote no summary with its restarts')

    summary = json.loads(summary_path.read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]
    assert robot in summary['rounds'][1]['participants']   # back for the next round
    [restart] = summary['restarts']
    assert (restart['node'], restart['count'], restart['left_down'], restart['exits']) == \
        (f'{robot}_client', 1, False, ['signal SIGKILL'])


def node_pid_or_none(name: str, *, other_than: int):
    try:
        return node_pid(name, under=os.getpid(), timeout_s=0, other_than=other_than)
    except TimeoutError:
        return None
