"""config/fastdds.xml, the Fast DDS profile every process of the workspace loads: Fast DDS parses it
without an error and services answer under it (its one setting: how long a service waits for a new
client's reply reader before dropping the answer)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROFILE = Path(__file__).resolve().parents[2] / 'config/fastdds.xml'

ROUND_TRIP = """
import rclpy
from rclpy.node import Node
from mtf_grasp_interfaces.srv import FetchModel
rclpy.init()
node = Node('profile_probe')
node.create_service(FetchModel, 'probe', lambda request, response: response)
client = node.create_client(FetchModel, 'probe')
assert client.wait_for_service(timeout_sec=30)
answer = client.call_async(FetchModel.Request())
rclpy.spin_until_future_complete(node, answer, timeout_sec=30)
print('answered' if answer.done() else 'unanswered')
"""


def _round_trip(profile: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, 'FASTRTPS_DEFAULT_PROFILES_FILE': str(profile)}
    return subprocess.run([sys.executable, '-c', ROUND_TRIP], env=env, capture_output=True, text=True, timeout=120)


def test_the_workspace_profile_loads_without_a_parser_error_and_services_answer():
    run = _round_trip(PROFILE)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == 'answered'
    assert 'XMLPARSER' not in run.stdout + run.stderr, run.stdout + run.stderr   # Fast DDS logs to stdout


def test_a_profile_fast_dds_cannot_parse_is_reported(tmp_path):
    """The check above can fail: the same profile with a value Fast DDS rejects."""
    broken = tmp_path / 'fastdds.xml'
    broken.write_text(PROFILE.read_text().replace('<sec>5</sec>', '<sec>five</sec>'))
    run = _round_trip(broken)
    assert 'XMLPARSER' in run.stdout and "profile's tag publisher" in run.stdout, run.stdout + run.stderr
