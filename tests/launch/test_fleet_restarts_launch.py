"""`ros2 launch mtf_grasp fleet.launch.py` restarts a node killed mid-round from outside (SIGKILL on
its process, found in the process table): a low-level client, a tier coordinator, the server. The
launch completes its rounds, the node is back for a later round, and summary.json records the
restart, as under `mtf-grasp fleet` (tests/ros/test_faults.py). Round progress is read from the
nodes' record files: under launch their output goes to the screen."""
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
from fleet_testdata import (assert_same_state, check_hash_chain, experiment_rounds,  # noqa: E402
                            fleet_final_state, planned_round, write_configs, write_jacquard_boxes)
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


async def kill_and_finish(fleet_dir, node: str, *, once) -> dict:
    """SIGKILL `node` once `once(run_dir)` holds, see it respawned, and return the summary the
    launch wrote with its restarts, which it does when the server has finished."""
    run = fleet_dir / 'run'
    await _until(lambda: once(run), f'{node}: the moment to kill it never came')
    killed = node_pid(node, under=os.getpid(), timeout_s=0)
    os.kill(killed, signal.SIGKILL)
    await _until(lambda: node_pid_or_none(node, other_than=killed), f'{node} was not respawned')
    summary_path = run / 'summary.json'
    await _until(lambda: summary_path.exists() and 'restarts' in summary_path.read_text(),
                 'the launch wrote no summary with its restarts')
    summary = json.loads(summary_path.read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]
    [restart] = summary['restarts']
    assert (restart['node'], restart['count'], restart['left_down'], restart['exits']) == \
        (node, 1, False, ['signal SIGKILL'])
    return summary


def node_pid_or_none(name: str, *, other_than: int):
    try:
        return node_pid(name, under=os.getpid(), timeout_s=0, other_than=other_than)
    except TimeoutError:
        return None


async def round_zero(fleet_dir):
    await _until(lambda: (fleet_dir / 'run' / 'partition.json').exists(), 'the launch drew no partition')
    return planned_round(fleet_dir / 'experiment.yaml', fleet_dir / 'run' / 'partition.json', 'mtf_avg', 0)


def recorded(path: Path, kind: str) -> bool:
    return path.exists() and f'"kind": "{kind}"' in path.read_text()


def server_rounds(fleet_dir) -> dict:
    lines = (fleet_dir / 'run' / 'records' / 'server.jsonl').read_text().splitlines()
    return {r['round']: r for r in map(json.loads, lines) if r['kind'] == 'round'}


@pytest.mark.launch(fixture=fleet_launch)
async def test_a_client_killed_from_outside_is_respawned_and_the_launch_completes(fleet_dir):
    robot = next(m for members in (await round_zero(fleet_dir)).clusters.values() for m in members)
    # Mid-round: it holds its seed model and trains.
    summary = await kill_and_finish(fleet_dir, f'{robot}_client',
                                    once=lambda run: recorded(run / 'records' / f'{robot}.client.jsonl', 'transfer'))
    assert robot in summary['rounds'][1]['participants']   # back for the next round


@pytest.mark.launch(fixture=fleet_launch)
async def test_a_coordinator_killed_from_outside_is_respawned_and_coordinates_again(fleet_dir):
    plan = await round_zero(fleet_dir)
    robot = next(c for c in plan.top_level if plan.clusters[c])
    # Mid-round: it holds the round's global model and trains its seed.
    await kill_and_finish(fleet_dir, f'{robot}_coordinator',
                          once=lambda run: recorded(run / 'records' / f'{robot}.coordinator.jsonl', 'transfer'))
    assert robot in server_rounds(fleet_dir)[1]['submitted']  # its cluster model reached round 1


@pytest.mark.launch(fixture=fleet_launch)
async def test_the_server_killed_from_outside_is_respawned_and_resumes_from_its_checkpoint(fleet_dir):
    # Mid-round: round 0 is checkpointed, round 1 is open.
    await kill_and_finish(fleet_dir, 'fl_server', once=lambda run: (run / 'checkpoints' / 'latest.json').exists())
    run = fleet_dir / 'run'
    assert [c['round'] for c in check_hash_chain(run, fleet_dir / 'experiment.yaml')] == [0, 1]
    state, _, _ = experiment_rounds(fleet_dir / 'experiment.yaml', run / 'partition.json', 'mtf_avg')
    assert_same_state(fleet_final_state(run, 2), state)
