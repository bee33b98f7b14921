"""A stranger on the fleet's DDS domain cannot change the global model: its forged registration
and poisoned submissions (as itself, as a robot with a key of its own, unsigned) are refused with
a reason, counted in /fleet/status, its forged seeds on the coordinators' topics are dropped by
the members, its forged seed reports by the server, and the fleet ends with exactly the
experiment's model."""
import json
from pathlib import Path

import pytest

from fleet_testdata import (assert_same_state, experiment_rounds, finish, fleet_final_state, write_configs,
                            write_jacquard_boxes)

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def fleet_beside(ros_processes, tmp_path, script: str, *, method: str, robots: int, ready=None, defences=None):
    """A 2-round fleet of `method` (under `defences`) with `script OUT 2` (a node of tests/ros) started
    right after the server, the robots once `ready(OUT)` holds; (summary, the script's JSON lines)."""
    from mtf_grasp.fleet import fleet_nodes, prepare_fleet
    from mtf_grasp.supervisor import Supervisor

    # Enough work that a round outlasts what the script does in it (about 0.1 s).
    data = write_jacquard_boxes(tmp_path / 'data', samples=60)
    config = write_configs(tmp_path, data=data, robots=robots, rounds=2, method=method, input_size=64,
                           defences=defences)
    setup = prepare_fleet(config, out_dir=tmp_path / 'run')
    out = tmp_path / f'{Path(script).stem}.jsonl'
    supervisor = Supervisor(fleet_nodes(setup), workdir=setup.out_dir, echo=None)
    try:
        supervisor.start(['fl_server'])
        beside = ros_processes.python(Path(__file__).with_name(script), str(out), '2', name=Path(script).stem)
        if ready is not None:
            supervisor.wait(until=lambda: ready(out), timeout=60)
        supervisor.start([name for name in supervisor.specs if name != 'fl_server'])
        summary = finish(supervisor, timeout_s=240)
    finally:
        supervisor.stop()
    assert beside.wait(timeout=60) == 0
    return summary, [json.loads(line) for line in out.read_text().splitlines()]


def test_a_stranger_is_refused_and_the_global_model_is_the_fault_free_one(ros_processes, tmp_path):
    # The stranger is refused registration before any robot starts, so it is on the domain from the
    # first round on.
    summary, entries = fleet_beside(ros_processes, tmp_path, 'stranger_node.py', method='fedavg', robots=3,
                                    ready=lambda out: out.exists() and '"register"' in out.read_text())

    (registration,) = [e for e in entries if e['kind'] == 'register']
    assert not registration['accepted'] and 'signature does not match' in registration['message']
    submissions = [e for e in entries if e['kind'] == 'submit']
    tried = sorted({e['round'] for e in submissions})   # every round whose model it could still fetch
    assert tried and set(tried) <= {0, 1}
    planned = [(r, sender) for r in tried for sender in ('mallory', 'robot_0', 'robot_1')]
    assert [(e['round'], e['sender']) for e in submissions] == planned[:len(submissions)]
    # A call in flight when the server left after the last round may go unanswered: the last one only.
    answered = [e for e in submissions if e['accepted'] is not None]
    assert answered == submissions[:len(answered)] and len(answered) >= len(planned) - 3
    assert not any(e['accepted'] for e in answered)
    # Authentication comes first, so the reasons do not depend on whether the round was still open.
    reasons = [e['message'].split(' ')[0] for e in answered]
    assert reasons == (['unknown_sender', 'bad_signature', 'bad_signature'] * len(tried))[:len(answered)]
    (status,) = [e for e in entries if e['kind'] == 'status']
    if answered == submissions:
        assert status['rejected_submissions'] == len(submissions)
        assert status['last_rejection'] == submissions[-1]['message']
    else:   # the unanswered one was counted if it reached the server
        assert len(answered) <= status['rejected_submissions'] <= len(submissions)

    robots = ['robot_0', 'robot_1', 'robot_2']
    assert [r['participants'] for r in summary['rounds']] == [robots, robots]
    assert status['global_sha256'] == summary['final_sha256']
    (model,) = [e for e in entries if e['kind'] == 'global_model']
    assert model['version'] == 2
    assert model['sha256'] == model['payload_sha256'] == summary['final_sha256']
    state, accuracies, _ = experiment_rounds(tmp_path / 'experiment.yaml', tmp_path / 'run' / 'partition.json',
                                             'fedavg')
    assert_same_state(fleet_final_state(tmp_path / 'run', 2), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)


def test_forged_seeds_on_the_coordinators_topics_are_dropped_and_the_model_is_the_fault_free_one(
        ros_processes, tmp_path):
    summary, published = fleet_beside(ros_processes, tmp_path, 'seed_forger.py', method='mtf_avg', robots=4)
    assert [p['round'] for p in published] == [0, 1] and all(p['published'] >= 1 for p in published)

    state, accuracies, _ = experiment_rounds(tmp_path / 'experiment.yaml', tmp_path / 'run' / 'partition.json',
                                             'mtf_avg')
    assert_same_state(fleet_final_state(tmp_path / 'run', 2), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
    logs = ''.join(p.read_text() for p in (tmp_path / 'run' / 'logs').glob('*client*.log'))
    assert 'tier/seed_model dropped: fetched model refused: bad_signature' in logs


def test_forged_seed_reports_are_dropped_by_the_server_and_the_model_is_the_fault_free_one(ros_processes, tmp_path):
    """Under `seed_ratio: 1.5`, a stranger publishes, every 0.2 s, a report in each member's name
    saying its coordinator's seed is 10⁶ times worse: the server drops them all (bad signature) and judges the clusters on the members' own reports, as
    the experiment does; no honest coordinator is refused."""
    summary, published = fleet_beside(ros_processes, tmp_path, 'report_forger.py', method='mtf_avg', robots=6,
                                      defences={'seed_ratio': 1.5})
    assert [p['round'] for p in published] == [0, 1] and all(p['published'] >= 1 for p in published)

    events = []
    state, accuracies, _ = experiment_rounds(tmp_path / 'experiment.yaml', tmp_path / 'run' / 'partition.json',
                                             'mtf_avg', events=events)
    assert_same_state(fleet_final_state(tmp_path / 'run', 2), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
    for record, decided in zip(summary['rounds'], events, strict=True):
        assert [(e['reason'], e['losses']) for e in record['defences']['events']] == [
            (e.reason, pytest.approx(e.losses, rel=1e-4)) for e in decided]
        assert [e['reason'] for e in record['defences']['events']] == ['seed_checked']
    server_log = (tmp_path / 'run' / 'logs' / 'fl_server.log').read_text()
    assert 'dropped a seed report from' in server_log and 'not signed by that roster member' in server_log
