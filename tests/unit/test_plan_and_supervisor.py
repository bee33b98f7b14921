"""Node plans and the process supervisor behind `mtf-grasp fleet`."""
import io
import signal
import subprocess
import sys
import time

import pytest
import yaml

from mtf_grasp.plan import NodeSpec, command_line, write_params_file
from mtf_grasp.supervisor import NodeFailed, Supervisor, end_process


def test_params_file_is_keyed_by_fully_qualified_node_name(tmp_path):
    specs = [NodeSpec('fl_server', 'fl_server', parameters={'rounds': 3}),
             NodeSpec('fl_client', 'fl_client', namespace='robot_1', parameters={'robot_id': 'robot_1'})]
    doc = yaml.safe_load(write_params_file(specs, tmp_path / 'p.yaml').read_text())
    assert doc == {'/fl_server': {'ros__parameters': {'rounds': 3}},
                   '/robot_1/fl_client': {'ros__parameters': {'robot_id': 'robot_1'}}}


def test_params_file_has_no_yaml_aliases_for_shared_values(tmp_path):
    shared = ['robot_1', 'robot_2']
    specs = [NodeSpec('x', 'a', parameters={'peers': shared}), NodeSpec('x', 'b', parameters={'peers': shared})]
    text = write_params_file(specs, tmp_path / 'p.yaml').read_text()
    assert '&' not in text and '*' not in text
    assert yaml.safe_load(text)['/b']['ros__parameters']['peers'] == shared


def test_command_line_names_node_namespace_and_params(tmp_path, monkeypatch):
    spec = NodeSpec('fl_client', 'client', namespace='/robot_2/', remappings=(('grasps', 'out'),))
    argv = command_line(spec, tmp_path / 'p.yaml')
    assert argv[0].endswith('lib/mtf_grasp/fl_client')
    assert argv[1:] == ['--ros-args', '-r', '__node:=client', '-r', '__ns:=/robot_2',
                        '-r', 'grasps:=out', '--params-file', str(tmp_path / 'p.yaml')]


def python_node(code):
    """An argv builder that runs `code` with the node's name as argv[1]: real processes, no ROS."""
    return lambda spec, params: [sys.executable, '-c', code, spec.name]


def test_supervisor_prefixes_output_and_returns_when_nodes_finish(tmp_path):
    echo = io.StringIO()
    specs = [NodeSpec('x', 'a'), NodeSpec('x', 'b')]
    with Supervisor(specs, workdir=tmp_path, echo=echo,
                    argv_for=python_node('import sys; print("hello from", sys.argv[1])')) as sup:
        sup.wait(finished=['a', 'b'], timeout=30)
    assert '[a] hello from a' in echo.getvalue()
    assert '[b] hello from b' in echo.getvalue()
    assert (tmp_path / 'logs' / 'a.log').read_text() == 'hello from a\n'


def test_a_failing_node_fails_the_run_and_the_others_are_stopped(tmp_path):
    code = ('import sys, time\n'
            'if sys.argv[1] == "bad": print("boom"); sys.exit(3)\n'
            'time.sleep(60)')
    sup = Supervisor([NodeSpec('x', 'bad'), NodeSpec('x', 'sleeper')], workdir=tmp_path,
                     echo=None, argv_for=python_node(code))
    with pytest.raises(NodeFailed) as failure, sup:
        sup.wait(timeout=30)
    assert failure.value.name == 'bad' and failure.value.returncode == 3
    assert 'boom' in str(failure.value)
    assert sup.children['sleeper'].proc.poll() is not None


def test_killed_node_does_not_fail_the_run_and_can_be_restarted(tmp_path):
    code = 'import time; print("up", flush=True); time.sleep(60)'
    log = tmp_path / 'logs' / 'n.log'

    def wait_for_ups(count):   # a cold interpreter can take seconds to start on a loaded machine
        deadline = time.monotonic() + 30
        while log.read_text().splitlines().count('up') < count and time.monotonic() < deadline:
            time.sleep(0.05)

    with Supervisor([NodeSpec('x', 'n')], workdir=tmp_path, echo=None,
                    argv_for=python_node(code)) as sup:
        wait_for_ups(1)
        sup.kill('n', signal.SIGKILL)
        sup.wait(until=lambda: True, timeout=5)
        sup.restart('n')
        wait_for_ups(2)
        assert sup.children['n'].proc.poll() is None
    assert log.read_text().splitlines().count('up') == 2   # one per start (Ctrl-C's traceback follows)


def test_wait_times_out_naming_the_nodes_still_running(tmp_path):
    with Supervisor([NodeSpec('x', 'slow')], workdir=tmp_path, echo=None,
                    argv_for=python_node('import time; time.sleep(60)')) as sup:
        with pytest.raises(TimeoutError, match='slow'):
            sup.wait(finished=['slow'], timeout=0.5)


def _helper(code: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout.readline().strip() == 'up'   # its signal handlers are in place
    return proc


def test_end_process_escalates_to_sigkill_for_a_helper_that_ignores_sigint_and_sigterm():
    proc = _helper('import signal, time\n'
                   'for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\n'
                   'print("up", flush=True)\ntime.sleep(60)')
    start = time.monotonic()
    assert end_process(proc, grace_s=0.3) == -signal.SIGKILL
    assert time.monotonic() - start < 5


def test_end_process_stops_at_sigint_when_that_is_enough():
    # "up" is printed inside the try: a SIGINT that arrives once the parent has read it is caught.
    # The handler is set explicitly: a child of a shell's background job inherits SIGINT ignored.
    proc = _helper('import signal, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n'
                   'try:\n    print("up", flush=True)\n    time.sleep(60)\n'
                   'except KeyboardInterrupt:\n    raise SystemExit(3)')
    assert end_process(proc, grace_s=5.0) == 3

