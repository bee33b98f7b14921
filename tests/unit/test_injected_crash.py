"""`mtf-grasp fleet --crash`: a node dies by SIGKILL at its round, and sits the round out once restarted."""
import signal
import subprocess
import sys

CHILD = """
import sys
from mtf_grasp.nodes.fleet.injected_crash import InjectedCrash
crash = InjectedCrash(crashes=['robot_1:2', 'robot_10:0'], robot_id='robot_1', node_name='robot_1_client',
                      report_dir=sys.argv[1])
print([crash.missed(r, lambda message: None) for r in (0, 1)], flush=True)
print(crash.missed(2, print), flush=True)
"""


def run_child(directory):
    return subprocess.run([sys.executable, '-c', CHILD, str(directory)], capture_output=True, text=True, timeout=60)


def test_a_node_crashes_at_its_round_and_after_a_restart_misses_only_that_round(tmp_path):
    first = run_child(tmp_path)
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert first.stdout.splitlines() == ['[False, False]', 'round 2: crashing now, as --crash asks']
    assert (tmp_path / 'crash_robot_1_client_round2').exists()
    again = run_child(tmp_path)   # the restarted node
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ['[False, False]', 'round 2: crashed in this round (--crash); back from the next',
                                         'True']
