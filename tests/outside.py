"""Faults from outside a runner, as an OOM kill, a segfault or a robot losing power would come:
the node's process is found in the process table by its ROS node name (`__node:=NAME` on its
command line) among the descendants of a process the test started, never through the runner."""
from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def _parent(pid: int) -> int:
    # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    return int(Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    """Pids of every live process below `root` in the process tree."""
    parents = {}
    for entry in Path('/proc').iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = _parent(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass  # ended while we looked
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _argv(pid: int) -> list[str]:
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace').split('\0')
    except OSError:
        return []


def _running(pid: int) -> bool:
    try:
        return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except (OSError, IndexError):
        return False


def node_pids(name: str, *, under: int) -> list[int]:
    """Live processes below `under` started as ROS node `name`."""
    return [pid for pid in descendants(under) if f'__node:={name}' in _argv(pid) and _running(pid)]


def node_pid(name: str, *, under: int, timeout_s: float = 120, other_than: int | None = None) -> int:
    """The pid of node `name` below `under`, waiting for it to (re)appear (and, with
    `other_than`, for a process other than that one: a restarted node)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pids = [pid for pid in node_pids(name, under=under) if pid != other_than]
        if len(pids) == 1:
            return pids[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f'node {name}: {len(pids)} processes below pid {under} after {timeout_s:.0f} s')
        time.sleep(0.05)


def signal_node(name: str, sig: int, *, under: int) -> int:
    """Send `sig` to node `name`'s process; its pid."""
    pid = node_pid(name, under=under)
    os.kill(pid, sig)
    return pid


def resume_all(under: int) -> dict[int, list[str]]:
    """Teardown, first step: SIGCONT every process below `under` (a stopped one would never act
    on its runner's SIGINT); returns their pids and command lines for `kill_leftovers`."""
    seen = {pid: _argv(pid) for pid in descendants(under)}
    for pid in seen:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    return seen


def kill_leftovers(seen: dict[int, list[str]]) -> None:
    """Teardown, last step: SIGKILL those processes of `seen` that outlived their runner (the
    same command line: not a new process that took a freed pid)."""
    for pid, argv in seen.items():
        if _running(pid) and _argv(pid) == argv:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
