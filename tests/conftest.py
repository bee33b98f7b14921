"""Shared test set-up: ROS 2 confined to this test session even when pytest is run directly, and the
fixtures of the ROS and launch tests (real processes, a probe node), which import rclpy only when used."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# tools/run_tests.sh sets these; a bare `pytest` gets the same isolation.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(os.getpid() % 200 + 10))
os.environ.setdefault('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA')
os.environ.setdefault('FASTRTPS_DEFAULT_PROFILES_FILE', str(Path(__file__).resolve().parents[1] / 'config/fastdds.xml'))
os.environ.setdefault('MUJOCO_GL', 'egl')
if 'ROS_LOG_DIR' not in os.environ:
    os.environ['ROS_LOG_DIR'] = tempfile.mkdtemp(prefix='mtf-ros-log-')
    os.environ.setdefault('ROS_HOME', os.environ['ROS_LOG_DIR'])


class RosProcesses:
    """Starts commands in their own process groups and always ends them at teardown."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def start(self, argv: list[str], *, name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = self.log_dir / f'{name}.log'
        proc = subprocess.Popen(argv, stdout=log.open('w'), stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                start_new_session=True)
        self.procs.append((proc, log))
        return proc

    def python(self, script: str | Path, *args: str, name: str, **kw) -> subprocess.Popen:
        return self.start([sys.executable, os.fspath(script), *args], name=name, **kw)

    def log(self, proc: subprocess.Popen) -> str:
        return next(log.read_text() for p, log in self.procs if p is proc)

    def stop_all(self) -> None:
        for sig in (signal.SIGINT, signal.SIGKILL):
            for proc, _ in self.procs:
                if proc.poll() is None:
                    try:
                        os.killpg(proc.pid, sig)
                    except ProcessLookupError:
                        pass
            for proc, _ in self.procs:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass


@pytest.fixture
def ros_processes(tmp_path):
    procs = RosProcesses(tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture
def ros_node():
    """An rclpy node in the test process with its own context and executor (`node.executor`)."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor

    context = Context()
    rclpy.init(context=context)
    node = rclpy.create_node('test_probe', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    yield node
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=context)
