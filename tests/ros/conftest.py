"""Fixtures for tests that run real ROS 2 nodes in separate processes over loopback DDS."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

rclpy = pytest.importorskip('rclpy', reason='rclpy is not importable: run the tests via `make test`')
pytest.importorskip('mtf_grasp_interfaces',
                    reason='mtf_grasp_interfaces is not built/sourced: run the tests via `make test`')


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
