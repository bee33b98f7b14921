"""Run a plan of nodes as separate OS processes, like `ros2 launch` does on a full install.

Every line a node prints is echoed with a `[name]` prefix and kept in `<workdir>/logs/<name>.log`.
A node that exits is judged by its spec's RestartTracker (mtf_grasp.restarts), as launch does:
a crashed node with a restart policy is started again after the policy's delay (only while
someone `wait`s); a node that fails for good fails the run when it is `required`, and is left down
otherwise. Those decisions go to `<workdir>/logs/supervisor.log` and the echo. Ctrl-C or leaving
the `with` block stops all nodes (SIGINT, then SIGTERM, then SIGKILL to the process group).
`kill`/`restart` end and start a node on purpose (not a crash; nothing is decided on it).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence, TextIO

from mtf_grasp.plan import NodeSpec, command_line, write_params_file
from mtf_grasp.restarts import Decision, Outcome, RestartTracker, describe_exit, restart_records


class NodeFailed(RuntimeError):
    """A supervised node exited when it should not have."""

    def __init__(self, name: str, returncode: int, tail: Sequence[str], *, why: str = ''):
        self.name, self.returncode, self.tail = name, returncode, list(tail)
        last = ' | '.join(line.strip() for line in self.tail[-3:])
        super().__init__(f'node {name} exited with {describe_exit(returncode)}{f" ({why})" if why else ""}: {last}')


class _Child:
    def __init__(self, spec: NodeSpec, argv: list[str], env: dict[str, str], log_path: Path,
                 echo: TextIO | None):
        self.spec = spec
        self.tail: deque[str] = deque(maxlen=50)
        self.expected_exit = False
        self.decision: Decision | None = None  # what the supervisor made of its exit
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
        self.trackers = {spec.name: RestartTracker(spec.name, spec.restart) for spec in specs}
        self._due: dict[str, float] = {}  # node -> monotonic time of its pending restart
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
            self._due.pop(name, None)
            self.children[name] = _Child(spec, self.argv_for(spec, self.params_file), self.env,
                                         self.workdir / 'logs' / f'{name}.log', self.echo)

    def wait(self, *, finished: Iterable[str] = (), until: Callable[[], bool] | None = None,
             timeout: float | None = None, poll_s: float = 0.2) -> None:
        """Block until every node in `finished` exited with 0 or was left down (or `until()` is
        true), restarting crashed nodes meanwhile.

        Raises NodeFailed when a required node fails for good or a node not in `finished` exits
        with 0, TimeoutError after `timeout` seconds.
        """
        finished = set(finished)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._look_after()
            done = set()
            for name, child in self.children.items():
                decision = child.decision
                if decision is None or decision.outcome is Outcome.RESTART:
                    continue
                if decision.outcome is Outcome.FINISHED and name in finished:
                    done.add(name)
                elif decision.outcome is not Outcome.FINISHED and not self.specs[name].required:
                    done.add(name)  # left down: nothing to wait for
                else:
                    raise NodeFailed(name, child.proc.returncode, child.tail, why=decision.detail)
            if (finished and done >= finished) or (until is not None and until()):
                return
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f'nodes still running after {timeout:.0f} s: '
                                   + ', '.join(sorted(n for n, c in self.children.items()
                                                      if c.proc.poll() is None)))
            time.sleep(poll_s)

    def _look_after(self) -> None:
        """Decide on each node that exited since the last look; start those whose restart is due."""
        now = time.monotonic()
        for name, child in self.children.items():
            if child.decision is None and not child.expected_exit and child.proc.poll() is not None:
                child.join_output()
                child.decision = self.trackers[name].on_exit(child.proc.returncode, now=now)
                outcome = child.decision.outcome
                if outcome is Outcome.RESTART:
                    self._due[name] = now + child.decision.delay_s
                if outcome is not Outcome.FINISHED:
                    ends = ('' if outcome is Outcome.RESTART or self.specs[name].required
                            else '; the fleet goes on without it')
                    self._note(f'{child.decision.message}{ends}')
        for name, due in list(self._due.items()):
            if now >= due:
                self.start([name])
                self._note(f'{name} restarted (pid {self.children[name].proc.pid})')

    def _note(self, message: str) -> None:
        with (self.workdir / 'logs' / 'supervisor.log').open('a') as log:
            log.write(f'{datetime.now(timezone.utc).isoformat(timespec="milliseconds")} {message}\n')
        if self.echo is not None:
            self.echo.write(f'[supervisor] {message}\n')
            self.echo.flush()

    def restart_records(self) -> list[dict]:
        """summary.json's `restarts`: each node that crashed, its restarts and their times."""
        return restart_records(self.trackers[name] for name in self.specs)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """End one node on purpose: not a crash, so it is neither restarted nor fails the run."""
        child = self.children[name]
        child.expected_exit = True
        child.signal(sig)
        child.proc.wait()

    def restart(self, name: str) -> None:
        """Start a node ended with `kill` again under the same name and parameters."""
        self.start([name])

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop every node: SIGINT, then SIGTERM, then SIGKILL, each after `grace_s`."""
        self._due.clear()
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
