"""Run a plan of nodes as separate OS processes, like `ros2 launch` does on a full install.

Every line a node prints is echoed with a `[name]` prefix and kept in `<workdir>/logs/<name>.log`.
A node that dies unexpectedly fails the whole run; Ctrl-C or leaving the `with` block stops all
nodes (SIGINT, then SIGTERM, then SIGKILL to the process group). `kill`/`restart` exist for
fault injection: a node killed on purpose does not fail the run.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Iterable, Sequence, TextIO

from mtf_grasp.plan import NodeSpec, command_line, write_params_file


class NodeFailed(RuntimeError):
    """A supervised node exited when it should not have."""

    def __init__(self, name: str, returncode: int, tail: Sequence[str]):
        self.name, self.returncode, self.tail = name, returncode, list(tail)
        last = ' | '.join(line.strip() for line in self.tail[-3:])
        super().__init__(f'node {name} exited with code {returncode}: {last}')


class _Child:
    def __init__(self, spec: NodeSpec, argv: list[str], env: dict[str, str], log_path: Path,
                 echo: TextIO | None):
        self.spec = spec
        self.tail: deque[str] = deque(maxlen=50)
        self.expected_exit = False
        self._log = log_path.open('a', buffering=1)
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, bufsize=1,
                                     start_new_session=True)
        self._reader = threading.Thread(target=self._pump, args=(echo,), daemon=True)
        self._reader.start()

    def _pump(self, echo: TextIO | None) -> None:
        for line in self.proc.stdout:
            self.tail.append(line)
            self._log.write(line)
            if echo is not None:
                echo.write(f'[{self.spec.name}] {line}')
                echo.flush()
        self._log.close()

    def signal(self, sig: int) -> None:
        signal_group(self.proc, sig)

    def join_output(self, timeout: float = 2.0) -> None:
        self._reader.join(timeout)


class Supervisor:
    """Start, watch and stop the nodes of a plan."""

    def __init__(self, specs: Sequence[NodeSpec], *, workdir: str | Path,
                 env: dict[str, str] | None = None, echo: TextIO | None = sys.stdout,
                 argv_for: Callable[[NodeSpec, Path], list[str]] = command_line):
        self.specs = {spec.name: spec for spec in specs}
        if len(self.specs) != len(specs):
            raise ValueError('node names in a plan must be unique')
        self.workdir = Path(workdir)
        self.env = {**os.environ, **(env or {})}
        self.echo = echo
        self.argv_for = argv_for
        self.children: dict[str, _Child] = {}
        self.params_file = write_params_file(specs, self.workdir / 'params.yaml')

    def __enter__(self) -> 'Supervisor':
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, names: Iterable[str] | None = None) -> None:
        (self.workdir / 'logs').mkdir(parents=True, exist_ok=True)
        for name in names or self.specs:
            spec = self.specs[name]
            self.children[name] = _Child(spec, self.argv_for(spec, self.params_file), self.env,
                                         self.workdir / 'logs' / f'{name}.log', self.echo)

    def wait(self, *, finished: Iterable[str] = (), until: Callable[[], bool] | None = None,
             timeout: float | None = None, poll_s: float = 0.2) -> None:
        """Block until every node in `finished` exited with 0 (or `until()` is true).

        Raises NodeFailed when any node exits otherwise, TimeoutError after `timeout` seconds.
        """
        finished = set(finished)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            done = set()
            for name, child in self.children.items():
                code = child.proc.poll()
                if code is None or child.expected_exit:
                    continue
                if code == 0 and name in finished:
                    done.add(name)
                    continue
                child.join_output()
                raise NodeFailed(name, code, child.tail)
            if (finished and done == finished) or (until is not None and until()):
                return
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f'nodes still running after {timeout:.0f} s: '
                                   + ', '.join(sorted(n for n, c in self.children.items()
                                                      if c.proc.poll() is None)))
            time.sleep(poll_s)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Fault injection: end one node without failing the run."""
        child = self.children[name]
        child.expected_exit = True
        child.signal(sig)
        child.proc.wait()

    def restart(self, name: str) -> None:
        """Start a killed node again under the same name and parameters."""
        self.start([name])

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop every node: SIGINT, then SIGTERM, then SIGKILL, each after `grace_s`."""
        for child in self.children.values():
            child.expected_exit = True
        end_process_groups([child.proc for child in self.children.values()], grace_s=grace_s)
        for child in self.children.values():
            child.join_output()


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Send `sig` to the process group of `proc` (started with `start_new_session=True`) while it runs."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def end_process_groups(procs: Sequence[subprocess.Popen], *, grace_s: float = 5.0) -> None:
    """Stop processes started with `start_new_session=True`: SIGINT, then SIGTERM, then SIGKILL to
    the group of each one still running, every signal `grace_s` after the one before."""
    live = list(procs)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        live = [proc for proc in live if proc.poll() is None]
        if not live:
            break
        for proc in live:
            signal_group(proc, sig)
        deadline = time.monotonic() + grace_s
        for proc in live:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass


def end_process(proc: subprocess.Popen, *, grace_s: float = 5.0) -> int:
    """`end_process_groups` for one helper process; its exit code. A bench peer has been seen to
    outlive SIGTERM by more than 10 s, holding its parent's pipes."""
    end_process_groups([proc], grace_s=grace_s)
    return proc.wait()
