"""Restart policy: the pure decision both runners share, its config validation, and the Supervisor
acting on it for processes killed from outside (real processes, no ROS)."""
import io
import os
import signal
import sys
import time

import pytest
import yaml

from outside import kill_leftovers, node_pid, resume_all
from mtf_grasp.errors import InputError
from mtf_grasp.fleet import load_fleet_config
from mtf_grasp.plan import NodeSpec
from mtf_grasp.restarts import Outcome, RestartPolicy, RestartTracker
from mtf_grasp.supervisor import NodeFailed, Supervisor

POLICY = RestartPolicy(delay_s=1.0, backoff=3.0, max_delay_s=5.0, max_crashes=4, window_s=60.0)


def test_crashes_are_restarted_with_growing_delays_until_too_many_fall_in_the_window():
    tracker = RestartTracker('n', POLICY)
    decisions = [tracker.on_exit(-signal.SIGKILL, now=t) for t in (0.0, 10.0, 20.0, 30.0)]
    assert [d.outcome for d in decisions] == [Outcome.RESTART] * 3 + [Outcome.LEFT_DOWN]
    assert [d.delay_s for d in decisions[:3]] == [1.0, 3.0, 5.0]  # 1, 3, 9 capped at 5
    assert decisions[0].message == 'n exited with signal SIGKILL; restart 1 in 1.0 s'
    assert decisions[3].message == 'n exited with signal SIGKILL: 4 crashes within 60 s; left down'
    record = tracker.record()
    assert (record['node'], record['count'], record['left_down']) == ('n', 3, True)
    assert len(record['times']) == 4 and record['exits'] == ['signal SIGKILL'] * 4


def test_crashes_older_than_the_window_are_forgotten():
    tracker = RestartTracker('n', POLICY)
    delays = [tracker.on_exit(-signal.SIGSEGV, now=t).delay_s for t in (0.0, 10.0, 100.0)]
    assert delays == [1.0, 3.0, 1.0]   # the third crash is the only one within 60 s


@pytest.mark.parametrize('code, policy, outcome', [
    (0, POLICY, Outcome.FINISHED),       # done (also after Ctrl-C / SIGTERM: the nodes exit 0)
    (1, POLICY, Outcome.FAILED),         # its work cannot go on: a restart would not change that
    (2, POLICY, Outcome.FAILED),         # bad input, e.g. an unreadable checkpoint
    (139, POLICY, Outcome.RESTART),      # an exit code the nodes never choose: a crash
    (-signal.SIGKILL, None, Outcome.FAILED),
])
def test_only_crashes_are_restarted(code, policy, outcome):
    assert RestartTracker('n', policy).on_exit(code, now=0.0).outcome is outcome


@pytest.mark.parametrize('restarts, message', [
    ({'delay_s': 0}, r'restarts: delay_s must be positive, got 0'),
    ({'backoff': 0.5}, r'restarts: backoff must be at least 1, got 0.5'),
    ({'delay_s': 10, 'max_delay_s': 5}, r'restarts: max_delay_s \(5.0\) must not be below delay_s \(10.0\)'),
    ({'max_crashes': 0}, r'restarts: max_crashes must be at least 1, got 0'),
    ({'window': 3}, r"restarts: unknown field 'window'"),
])
def test_bad_restart_settings_name_the_field(tmp_path, restarts, message):
    path = tmp_path / 'fleet.yaml'
    path.write_text(yaml.safe_dump({'experiment': 'e.yaml', 'restarts': restarts}))
    with pytest.raises(InputError, match=f'{path}.{message}'):
        load_fleet_config(path)


def sleeper(spec, params):
    """A node stand-in that runs until killed, named on its command line as ROS nodes are."""
    return [sys.executable, '-c', 'import time; print("up", flush=True); time.sleep(120)', f'__node:={spec.name}']


@pytest.fixture
def outside_cleanup():
    """Resume and kill whatever the test's processes left behind."""
    yield
    kill_leftovers(resume_all(os.getpid()))


def supervisor_log(tmp_path) -> str:
    path = tmp_path / 'logs' / 'supervisor.log'
    return path.read_text() if path.exists() else ''


def test_a_node_killed_from_outside_is_restarted_after_its_delay(tmp_path, outside_cleanup):
    spec = NodeSpec('x', 'robot', restart=RestartPolicy(delay_s=0.5), required=False)
    echo = io.StringIO()
    with Supervisor([spec], workdir=tmp_path, echo=echo, argv_for=sleeper) as sup:
        first = node_pid('robot', under=os.getpid())
        os.kill(first, signal.SIGKILL)
        killed = time.monotonic()
        sup.wait(until=lambda: 'restarted' in supervisor_log(tmp_path), timeout=30)
        second = node_pid('robot', under=os.getpid(), other_than=first)
        assert time.monotonic() - killed >= 0.5
        assert sup.children['robot'].proc.pid == second
        records = sup.restart_records()
    assert 'robot exited with signal SIGKILL; restart 1 in 0.5 s' in supervisor_log(tmp_path)
    assert f'[supervisor] robot restarted (pid {second})' in echo.getvalue()
    assert [(r['node'], r['count'], r['left_down']) for r in records] == [('robot', 1, False)]


def test_a_robot_that_keeps_crashing_is_left_down_and_the_run_goes_on(tmp_path, outside_cleanup):
    policy = RestartPolicy(delay_s=0.2, max_crashes=2, window_s=60)
    specs = [NodeSpec('x', 'robot', restart=policy, required=False), NodeSpec('x', 'other', restart=policy)]
    with Supervisor(specs, workdir=tmp_path, echo=None, argv_for=sleeper) as sup:
        first = node_pid('robot', under=os.getpid())
        os.kill(first, signal.SIGKILL)
        sup.wait(until=lambda: 'restarted' in supervisor_log(tmp_path), timeout=30)  # restarts happen in wait
        os.kill(node_pid('robot', under=os.getpid(), other_than=first), signal.SIGKILL)
        sup.wait(finished=['robot'], timeout=30)   # left down counts as ended
        assert sup.children['other'].proc.poll() is None
    assert 'robot exited with signal SIGKILL: 2 crashes within 60 s; left down; the fleet goes on without it' \
        in supervisor_log(tmp_path)


def test_a_required_node_that_keeps_crashing_fails_the_run(tmp_path, outside_cleanup):
    spec = NodeSpec('x', 'server', restart=RestartPolicy(delay_s=0.2, max_crashes=1))
    with pytest.raises(NodeFailed, match=r'^node server exited with signal SIGKILL \(1 crash within 300 s; '
                                         r'left down\)'), \
            Supervisor([spec], workdir=tmp_path, echo=None, argv_for=sleeper) as sup:
        os.kill(node_pid('server', under=os.getpid()), signal.SIGKILL)
        sup.wait(timeout=30)


def test_a_required_node_that_gives_up_by_itself_is_not_restarted_and_fails_the_run(tmp_path):
    """E.g. a server whose checkpoint is unreadable exits 2: a restart would read it again."""
    spec = NodeSpec('x', 'server', restart=RestartPolicy(delay_s=0.2))
    argv = lambda spec, params: [sys.executable, '-c', 'print("bad checkpoint"); raise SystemExit(2)']  # noqa: E731
    with pytest.raises(NodeFailed, match=r'^node server exited with code 2: bad checkpoint$'), \
            Supervisor([spec], workdir=tmp_path, echo=None, argv_for=argv) as sup:
        sup.wait(timeout=30)
    assert sup.trackers['server'].crashes == [] and 'restart' not in supervisor_log(tmp_path)


def test_the_fleet_command_lists_the_restarts():
    from mtf_grasp.commands.fleet import format_rounds

    summary = {'rounds': [], 'final_accuracy': 0.5, 'method': 'mtf_avg',
               'restarts': [{'node': 'robot_3_client', 'count': 1, 'left_down': False, 'times': ['t'],
                             'exits': ['signal SIGKILL']},
                            {'node': 'robot_1_coordinator', 'count': 1, 'left_down': True, 'times': ['t', 't'],
                             'exits': ['signal SIGKILL', 'signal SIGSEGV']}]}
    assert format_rounds(summary).splitlines()[-2:] == [
        'robot_3_client: 1 crash(es) (signal SIGKILL), 1 restart(s)',
        'robot_1_coordinator: 2 crash(es) (signal SIGKILL, signal SIGSEGV), 1 restart(s); left down']
