"""Faults on the real multi-process fleet, injected from outside the runner: `mtf-grasp fleet`
runs as its own process, and the test finds a node's process in the process table and sends it
SIGKILL or SIGSTOP, as an OOM kill, a segfault or a robot losing power would. The runner restarts
crashed nodes by the fleet's `restarts:` policy; each fault happens during a round and the fleet
still completes its rounds, with a finite global model whose checkpoints form a hash chain.

- a low-level client killed mid-round and restarted after its tier deadline: it misses exactly
  that round and the fleet ends with the model of `mtf-grasp experiment --crash ROBOT:0`;
- a client killed and another stalled past its tier deadline: clusters close without them, the
  stalled robot's late model is refused by round id, and both take part again afterwards;
- a tier coordinator killed mid-round and restarted: it serves its cluster again in that round
  and the later ones, and the fleet ends with the fault-free model;
- a coordinator that keeps crashing (here: at its first crash) is left down: the server closes the
  round at its deadline with the quorum, and its members are re-assigned;
- the server killed mid-round: it is restarted, resumes after its latest checkpoint with the same
  round numbers and model hash, the robots resend what it lost, and the fleet ends with the
  fault-free model;
- a server that cannot resume (its checkpoint damaged while it was stopped, then killed) fails the
  run with one error line.
"""
import json
import os
import re
import signal
import sys
import time
from dataclasses import dataclass

import pytest
import torch
import yaml

from fleet_testdata import (assert_same_state, check_hash_chain, experiment_rounds, fleet_final_state,
                            planned_round, write_configs, write_jacquard_boxes)
from outside import kill_leftovers, resume_all, signal_node

pytestmark = [pytest.mark.ros, pytest.mark.slow]

# Short enough to keep each test near a minute, long enough for a healthy cluster on a busy machine
# (about 6 s here). A call lost to a stalled process is given up and retried after 8 s.
FAULTS = {'tier_deadline_s': 15, 'round_deadline_s': 25, 'quorum': 0.5, 'retries': 10, 'retry_backoff_s': 0.5}
TRANSPORT = {'service_timeout_s': 8}
# A killed node is back in 1 s; a restarted node's own start-up (torch, DDS, data) takes seconds more.
RESTARTS = {'delay_s': 1.0, 'max_crashes': 3, 'window_s': 300}
# A client restarted only after its cluster closed (so it surely misses that round), with time
# left to take part in the next one.
LATE_RESTART = {'faults': {'tier_deadline_s': 30, 'round_deadline_s': 45},
                'restarts': {'delay_s': 32.0, 'max_delay_s': 60.0}}
RUN_TIMEOUT_S = 420


@dataclass
class FleetRun:
    """`mtf-grasp fleet` running in its own process on a 4-robot MTF-Grasp-Avg fleet (j = 2)."""

    proc: object
    setup: object
    rounds: int

    def log(self, name: str) -> str:
        path = self.setup.out_dir / 'logs' / f'{name}.log'
        return path.read_text() if path.exists() else ''

    def wait_for_log(self, name: str, text: str, *, timeout_s: float = 120, poll_s: float = 0.05) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.log(name):
            assert self.proc.poll() is None, f'the fleet ended before {name} logged {text!r}'
            assert time.monotonic() < deadline, f'{name} did not log {text!r} within {timeout_s:.0f} s'
            time.sleep(poll_s)

    def signal(self, node: str, sig: int) -> int:
        return signal_node(node, sig, under=self.proc.pid)

    def finish(self) -> dict:
        """Wait for `mtf-grasp fleet` to exit 0; the summary it wrote."""
        self.proc.wait(timeout=RUN_TIMEOUT_S + 60)
        assert self.proc.returncode == 0, self.log('supervisor')[-2000:]
        return json.loads(self.setup.summary_path.read_text())


@pytest.fixture
def fleet(tmp_path, ros_processes):
    """Start `mtf-grasp fleet` with the given settings; at the end resume whatever a test stopped,
    stop the runner and kill anything of it left behind."""
    def start(*, rounds: int, faults=None, restarts=None, federation=None, more=()) -> FleetRun:
        from mtf_grasp.fleet import prepare_fleet

        data = write_jacquard_boxes(tmp_path / 'data', samples=40)
        config = write_configs(tmp_path, data=data, robots=4, rounds=rounds, method='mtf_avg',
                               faults={**FAULTS, **(faults or {})}, transport=TRANSPORT, federation=federation)
        config.write_text(yaml.safe_dump({**yaml.safe_load(config.read_text()),
                                          'restarts': {**RESTARTS, **(restarts or {})}}))
        setup = prepare_fleet(config, out_dir=tmp_path / 'run')  # the runner draws the same partition
        proc = ros_processes.start([sys.executable, '-m', 'mtf_grasp.cli', 'fleet', '--config', str(config),
                                    '--out', str(setup.out_dir), '--quiet', '--timeout', str(RUN_TIMEOUT_S), *more],
                                   name='fleet')
        return FleetRun(proc=proc, setup=setup, rounds=rounds)

    yield start
    seen = resume_all(os.getpid())
    ros_processes.stop_all()
    kill_leftovers(seen)


def robots_in(summary_round: dict) -> set:
    return set(summary_round['participants'])


def restarts_of(summary: dict) -> dict:
    return {r['node']: (r['count'], r['left_down'], r['exits']) for r in summary['restarts']}


def low_level_robots(setup, round_index: int = 0):
    plan = planned_round(setup.experiment_path, setup.manifest_path, 'mtf_avg', round_index)
    return plan, [m for members in plan.clusters.values() for m in members]


def coordinator_with_members(plan) -> str:
    return next(c for c in plan.top_level if plan.clusters[c])


def wait_for_seed(run: FleetRun, robot: str) -> None:
    """Until `robot` holds its round-0 seed model (its record of that transfer comes first)."""
    records = run.setup.report_dir / f'{robot}.client.jsonl'
    deadline = time.monotonic() + 90
    while not (records.exists() and '"transfer"' in records.read_text()):
        assert time.monotonic() < deadline, f'{robot} never fetched its seed model'
        time.sleep(0.005)


def test_a_client_killed_mid_round_misses_exactly_that_round_and_is_back_for_the_next(fleet):
    """The fleet ends with the model of `mtf-grasp experiment --crash ROBOT:0`: the crash costs the
    robot's round-0 update and nothing else (the README measures that cost on SimGrasp)."""
    run = fleet(rounds=3, **LATE_RESTART)
    plan, members = low_level_robots(run.setup)
    crashed = members[0]
    wait_for_seed(run, crashed)
    killed = run.signal(f'{crashed}_client', signal.SIGKILL)
    summary = run.finish()

    assert [r['round'] for r in summary['rounds']] == [0, 1, 2]
    assert robots_in(summary['rounds'][0]) == set(run.setup.robots) - {crashed}
    assert all(robots_in(r) == set(run.setup.robots) for r in summary['rounds'][1:])
    assert restarts_of(summary) == {f'{crashed}_client': (1, False, ['signal SIGKILL'])}
    assert f'{crashed}_client exited with signal SIGKILL; restart 1 in 32.0 s' in run.log('supervisor')
    restarted = re.search(f'{crashed}_client restarted \\(pid (\\d+)\\)', run.log('supervisor'))
    assert restarted and int(restarted.group(1)) != killed
    state, accuracies, _ = experiment_rounds(run.setup.experiment_path, run.setup.manifest_path, 'mtf_avg',
                                             crashes={0: {crashed}})
    assert_same_state(fleet_final_state(run.setup.out_dir, run.rounds), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
    fault_free, _, _ = experiment_rounds(run.setup.experiment_path, run.setup.manifest_path, 'mtf_avg')
    assert any(not torch.equal(state[k], fault_free[k]) for k in state)   # the crash did cost something
    check_hash_chain(run.setup.out_dir, run.setup.experiment_path)


def test_fleet_crash_option_kills_a_robot_at_its_round_and_matches_the_experiments_crash(fleet, tmp_path):
    """`mtf-grasp fleet --crash ROBOT:0`: the robot's two nodes SIGKILL themselves when round 0's plan
    arrives, are restarted, sit round 0 out and take part in round 1: exactly `experiment --crash`."""
    from mtf_grasp.fleet import prepare_fleet

    probe = prepare_fleet(write_configs(tmp_path, data=write_jacquard_boxes(tmp_path / 'data', samples=40),
                                        robots=4, rounds=2), out_dir=tmp_path / 'probe')
    crashed = low_level_robots(probe)[1][0]
    run = fleet(rounds=2, more=['--crash', f'{crashed}:0'])
    summary = run.finish()
    assert robots_in(summary['rounds'][0]) == set(run.setup.robots) - {crashed}
    assert robots_in(summary['rounds'][1]) == set(run.setup.robots)
    assert restarts_of(summary) == {f'{crashed}_{role}': (1, False, ['signal SIGKILL'])
                                    for role in ('client', 'coordinator')}
    assert 'round 0: crashed in this round (--crash); back from the next' in run.log(f'{crashed}_client')
    state, accuracies, _ = experiment_rounds(run.setup.experiment_path, run.setup.manifest_path, 'mtf_avg',
                                             crashes={0: {crashed}})
    assert_same_state(fleet_final_state(run.setup.out_dir, run.rounds), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)


def test_killed_and_stalled_clients_miss_their_round_and_the_fleet_goes_on(fleet):
    run = fleet(rounds=2, **LATE_RESTART)
    plan, members = low_level_robots(run.setup)
    killed, stalled = members[:2]
    run.wait_for_log('fl_server', 'round 0: plan published')
    run.signal(f'{killed}_client', signal.SIGKILL)
    wait_for_seed(run, stalled)   # stalled once it holds its seed model, so it trains on, late
    stalled_pid = run.signal(f'{stalled}_client', signal.SIGSTOP)
    stalled_coordinator = plan.coordinator_of(stalled)
    run.wait_for_log(f'{stalled_coordinator}_coordinator', 'round 0: tier deadline passed')
    os.kill(stalled_pid, signal.SIGCONT)
    summary = run.finish()

    first, second = summary['rounds']
    assert [first['round'], second['round']] == [0, 1]
    assert robots_in(first) == set(run.setup.robots) - {killed, stalled}
    assert {killed, stalled} <= robots_in(second)  # back once restarted / running again
    assert restarts_of(summary) == {f'{killed}_client': (1, False, ['signal SIGKILL'])}  # a stall is no crash
    late = f"round 0: model to {stalled_coordinator}: .* refused the model: stale_round from '{stalled}' \\(round 0\\)"
    assert re.search(late, run.log(f'{stalled}_client'))
    assert f'rejected a submission: stale_round from {stalled!r}' in run.log(f'{stalled_coordinator}_coordinator')
    chain = check_hash_chain(run.setup.out_dir, run.setup.experiment_path)
    assert [c['sha256'] for c in chain] == [r['global_sha256'] for r in summary['rounds']]


def test_a_coordinator_killed_mid_round_is_restarted_and_its_cluster_costs_nothing(fleet):
    # Deadlines with room for the restart (1 s), the node's start-up and its seed training.
    run = fleet(rounds=2, faults={'tier_deadline_s': 50, 'round_deadline_s': 80})
    plan, _ = low_level_robots(run.setup)
    coordinator = f'{coordinator_with_members(plan)}_coordinator'
    # Before its seed exists, so no member has sent it a model that the crash would lose.
    run.wait_for_log('fl_server', 'round 0: plan published', poll_s=0.01)
    run.signal(coordinator, signal.SIGKILL)
    summary = run.finish()

    assert all(robots_in(r) == set(run.setup.robots) for r in summary['rounds'])
    assert restarts_of(summary) == {coordinator: (1, False, ['signal SIGKILL'])}
    restarted_log = run.log(coordinator).split('round 0: seed model trained')
    assert len(restarted_log) == 2   # only the restarted process got as far as a seed
    assert 'round 1: cluster model of' in restarted_log[1]  # back for the next round
    state, accuracies, _ = experiment_rounds(run.setup.experiment_path, run.setup.manifest_path, 'mtf_avg')
    assert_same_state(fleet_final_state(run.setup.out_dir, run.rounds), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)


def test_a_coordinator_that_keeps_crashing_is_left_down_and_its_members_reassigned(fleet):
    # Its members notice only between fetch tries (a call to its vanished service waits up to 8 s)
    # that round 0 has moved on, and must still make round 1's tier deadline: 15 s was missed under load.
    run = fleet(rounds=2, restarts={'max_crashes': 1},   # its first crash is one too many
                faults={'tier_deadline_s': 30, 'round_deadline_s': 45})
    plan, _ = low_level_robots(run.setup)
    dead = coordinator_with_members(plan)
    [alive] = set(plan.top_level) - {dead}
    run.wait_for_log('fl_server', 'round 0: plan published')
    run.signal(f'{dead}_coordinator', signal.SIGKILL)
    summary = run.finish()

    first, second = summary['rounds']
    assert robots_in(first) == {alive, *plan.clusters[alive]}
    assert (f'{dead}_coordinator exited with signal SIGKILL: 1 crash within 300 s; left down; '
            'the fleet goes on without it') in run.log('supervisor')
    assert restarts_of(summary) == {f'{dead}_coordinator': (0, True, ['signal SIGKILL'])}
    assert f'round 0: closed at the deadline without {dead}' in run.log('fl_server')
    record = [json.loads(line) for line in (run.setup.report_dir / 'server.jsonl').read_text().splitlines()]
    later = next(r for r in record if r.get('kind') == 'round' and r['round'] == 1)
    assert dead not in later['clusters'] and all(dead not in m for m in later['clusters'].values())
    reassigned = set(plan.clusters[dead])
    assert reassigned <= set(later['clusters']) | {m for ms in later['clusters'].values() for m in ms}
    assert robots_in(second) == set(run.setup.robots) - {dead}
    check_hash_chain(run.setup.out_dir, run.setup.experiment_path)


def test_a_server_killed_mid_round_resumes_its_hash_chain_and_ends_with_the_fault_free_model(fleet):
    # Round 1 is held open: a member of one cluster is stopped (SIGSTOP) once its round-0 model is
    # in, 100 epochs of its coordinator's seed training before it could send its round-1 model. The
    # server is killed once the other coordinator has been told its round-1 cluster model was
    # accepted (the server's own record comes before its answer is delivered, too early), so that
    # model is lost with the server and its coordinator must send it again.
    run = fleet(rounds=3, federation={'seed_epochs': 100})
    plan, _ = low_level_robots(run.setup, 1)
    waiting = coordinator_with_members(plan)
    held, other = plan.clusters[waiting][0], next(c for c in plan.top_level if c != waiting)
    run.wait_for_log(f'{held}_client', 'round 0: fine-tuned', poll_s=0.002)
    held_pid = run.signal(f'{held}_client', signal.SIGSTOP)
    run.wait_for_log(f'{other}_coordinator', 'round 1: cluster model of')
    assert 'round 1: fine-tuned' not in run.log(f'{held}_client')
    run.signal('fl_server', signal.SIGKILL)
    round_0 = json.loads((run.setup.checkpoint_dir / 'latest.json').read_text())
    run.wait_for_log('fl_server', 'resuming at round 1')
    os.kill(held_pid, signal.SIGCONT)
    summary = run.finish()

    assert round_0['round'] == 0
    assert f'resuming at round 1 from the checkpoint of round 0, model {round_0["sha256"][:12]}' in run.log('fl_server')
    assert [r['round'] for r in summary['rounds']] == list(range(run.rounds))
    assert restarts_of(summary) == {'fl_server': (1, False, ['signal SIGKILL'])}
    assert 'fl_server exited with signal SIGKILL; restart 1 in 1.0 s' in run.log('supervisor')
    assert 'round 1: cluster model sent again to the restarted server: accepted' in run.log(f'{other}_coordinator')
    chain = check_hash_chain(run.setup.out_dir, run.setup.experiment_path)
    assert chain[0]['sha256'] == round_0['sha256'] and chain[1]['previous_sha256'] == round_0['sha256']
    state, accuracies, _ = experiment_rounds(run.setup.experiment_path, run.setup.manifest_path, 'mtf_avg')
    assert_same_state(fleet_final_state(run.setup.out_dir, run.rounds), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)


def test_a_server_that_cannot_resume_fails_the_run_with_one_line(fleet, ros_processes):
    """The run fails only when the server cannot go on: here its checkpoint is damaged, so the
    restarted server refuses it (exit 2) and is not restarted again."""
    run = fleet(rounds=3)
    latest = run.setup.checkpoint_dir / 'latest.json'
    deadline = time.monotonic() + 180
    while not latest.exists():
        assert time.monotonic() < deadline and run.proc.poll() is None, 'no checkpoint was written'
        time.sleep(0.01)
    stopped = run.signal('fl_server', signal.SIGSTOP)  # holds the checkpoint files still
    damaged = run.setup.checkpoint_dir / json.loads(latest.read_text())['file']
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF   # the last byte of the last tensor: still loads, no longer hashes as recorded
    damaged.write_bytes(bytes(data))
    os.kill(stopped, signal.SIGKILL)
    run.proc.wait(timeout=180)

    assert run.proc.returncode == 1
    [error] = [line for line in ros_processes.log(run.proc).splitlines() if 'error' in line]
    assert error.startswith('mtf-grasp fleet: error: node fl_server exited with code 2: ')
    assert f'{damaged}: model hashes to' in error and 'refusing to resume from a damaged checkpoint' in error
    supervisor = run.log('supervisor')
    assert 'fl_server exited with signal SIGKILL; restart 1 in 1.0 s' in supervisor
    assert supervisor.count('restarted') == 1 and 'fl_server exited with code 2' in supervisor
