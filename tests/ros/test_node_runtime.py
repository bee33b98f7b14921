"""A fleet node process ends with its work's exit code even when its shutdown would hang: an
executor worker stuck in a callback (the interpreter's own exit would join it for ever), or a DDS
teardown that never returns (cut after runtime.TEARDOWN_S, every thread's stack in the log; after
2·TEARDOWN_S + 1 s, outside Python, when the teardown holds the GIL).
`kill -USR1` prints the stacks of a running node and leaves it running."""
import signal
import time
from pathlib import Path

import pytest

from mtf_grasp.nodes.runtime import TEARDOWN_S

pytestmark = pytest.mark.ros

STUCK_NODE = Path(__file__).with_name('stuck_node.py')


def wait_for(proc, log, text: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in log():
        assert proc.poll() is None, f'the node ended before it logged {text!r}:\n{log()[-2000:]}'
        assert time.monotonic() < deadline, f'the node did not log {text!r} within {timeout_s:.0f} s'
        time.sleep(0.02)


def test_a_worker_stuck_in_a_callback_does_not_hold_the_process_and_usr1_prints_its_stack(ros_processes, tmp_path):
    proc = ros_processes.python(STUCK_NODE, 'done', str(tmp_path), name='stuck')
    log = lambda: ros_processes.log(proc)  # noqa: E731
    wait_for(proc, log, 'ready')
    proc.send_signal(signal.SIGUSR1)
    wait_for(proc, log, 'in _block')      # faulthandler: the stuck worker's frame, the node runs on
    (tmp_path / 'go').touch()
    assert proc.wait(timeout=30) == 0, log()[-2000:]
    assert 'teardown still running' not in log()


def test_a_teardown_that_never_returns_is_cut_with_the_stacks_and_the_works_exit_code(ros_processes, tmp_path):
    proc = ros_processes.python(STUCK_NODE, 'teardown', str(tmp_path), name='stuck')
    log = lambda: ros_processes.log(proc)  # noqa: E731
    wait_for(proc, log, 'ready')
    (tmp_path / 'go').touch()
    assert proc.wait(timeout=TEARDOWN_S + 30) == 2, log()[-2000:]
    assert 'error: finished, and teardown will hang' in log()
    assert f'teardown still running after {TEARDOWN_S:.0f} s; leaving with code 2' in log()
    assert 'in destroy_node' in log()


def test_a_teardown_that_holds_the_gil_is_cut_outside_python_with_the_works_exit_code(ros_processes, tmp_path):
    proc = ros_processes.python(STUCK_NODE, 'teardown_gil', str(tmp_path), name='stuck')
    log = lambda: ros_processes.log(proc)  # noqa: E731
    wait_for(proc, log, 'ready')
    (tmp_path / 'go').touch()
    assert proc.wait(timeout=2 * TEARDOWN_S + 30) == 2, log()[-2000:]
    assert 'error: finished, and teardown will hang' in log()
    assert 'teardown still running' not in log()     # no Python thread could run: the C timer ended it
    assert 'in destroy_node' in log()                 # faulthandler's stacks, printed first
