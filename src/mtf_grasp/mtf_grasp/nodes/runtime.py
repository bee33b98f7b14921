"""The `main` of every node process: init, build the node(s), run, exit with a code that says how.

Two kinds of node, two ways to run and to stop:

- `run_node` (camera, replay, inference, executor nodes): the node lives in its callbacks, so the
  main thread spins it; rclpy's own signal handlers end the spin on Ctrl-C or SIGTERM.
- `run_fleet_node(s)` (fl_server, tier_coordinator, fl_client, robot_group): each node's round logic
  blocks in its `run()` on service responses and events, so `spinning` serves the callbacks in a
  background executor, and Python's handlers (SIGTERM too) raise KeyboardInterrupt in the main
  thread wherever it waits; rclpy's would only stop the executor and leave the round logic blocked.
  A process runs one node, or several (robot_group: many robots' nodes on one executor, each
  node's round logic in its own thread).

Exit codes: 0 when the work is done or the process is stopped, 1 when a fleet node's work failed
(a round that cannot finish), 2 for bad parameters or input files (one line naming them); a
process of several nodes exits with the worst of them.

A fleet node's exit is bounded: once its work is done, tearing down DDS gets `TEARDOWN_S`, then the
process prints every thread's stack and leaves with its code anyway, even when the teardown holds
the GIL; and it never waits for the interpreter's own shutdown, which joins the executor's worker
threads (one stuck in a DDS call holds the process for ever). Seen twice in CI: a server that had
finished its rounds hung in destroy_node, once after a client beside it had been SIGKILLed and
restarted, once holding the GIL (faulthandler then ended it, but with code 1, failing the run).
`kill -USR1 PID` prints every thread's stack of any node process into its log without stopping it.
"""
from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import os
import signal
import sys
import threading
import time
import traceback
from typing import Callable, Iterator, Sequence

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from mtf_grasp.errors import InputError


class NodeWorkFailed(RuntimeError):
    """The node's work cannot go on (a round past its deadline, a service that never answered)."""


def run_node(name: str, build: Callable[[], Node], *, work: Callable[[Node], object] | None = None,
             executor_factory: Callable[[], object] = SingleThreadedExecutor, args=None) -> int:
    """Build the node and spin it until Ctrl-C (or, with `work`, call `work(node)` and return when
    it does). A bad parameter (InputError) prints `name: error: ...` and returns 2."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    rclpy.init(args=args)
    node = None
    try:
        node = build()
        if work is not None:
            work(node)
        else:
            executor = executor_factory()
            executor.add_node(node)
            executor.spin()
    except InputError as exc:
        print(f'{name}: error: {exc}', file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


@contextlib.contextmanager
def spinning(*nodes: Node, threads: int = 4) -> Iterator[MultiThreadedExecutor]:
    """Spin `nodes` on one MultiThreadedExecutor in a daemon thread for the duration of the block.

    Several threads let one callback (a coordinator's submission to the server) wait on a
    response while others (its fetch_model service) keep serving.
    """
    executor = MultiThreadedExecutor(num_threads=threads, context=nodes[0].context)
    for node in nodes:
        executor.add_node(node)
    thread = threading.Thread(target=_spin, args=(executor,), name=f'spin-{nodes[0].get_name()}',
                              daemon=True)
    thread.start()
    try:
        yield executor
    finally:
        executor.shutdown(timeout_sec=2.0)
        thread.join(timeout=2.0)


def _spin(executor: MultiThreadedExecutor) -> None:
    with contextlib.suppress(ExternalShutdownException):
        executor.spin()


def run_fleet_node(node_class, *, args=None) -> None:
    """Create `node_class()`, spin it in the background and call its blocking `run()`."""
    run_fleet_nodes([node_class], args=args)


def run_fleet_nodes(factories: Sequence[Callable[[], object]], *, args=None) -> None:
    """Create a node with each factory, spin them all on one executor in the background and call
    every node's blocking `run()` (in the main thread for one node, else one thread each)."""
    signal.signal(signal.SIGTERM, _interrupt)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    nodes = []
    code = 0
    try:
        for factory in factories:
            nodes.append(factory())
        threads = nodes[0].fleet.config.torch_threads  # as `mtf-grasp experiment`: same kernels, same floats
        if threads > 0:
            import torch
            torch.set_num_threads(threads)
        with spinning(*nodes):
            code = _work(nodes[0]) if len(nodes) == 1 else _work_all(nodes)
    except (KeyboardInterrupt, ExternalShutdownException):
        code = 0
    except Exception as exc:  # noqa: BLE001 - building a node failed: bad input, or a bug
        code = _verdict(None, exc)
    finally:
        _leave_within(TEARDOWN_S, code)
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _work_all(nodes) -> int:
    codes = {}
    threads = [threading.Thread(target=lambda n=node: codes.__setitem__(n, _work(n)), daemon=True,
                                name=f'run-{node.get_name()}') for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)  # a short join lets Ctrl-C and SIGTERM reach the main thread
    return max(codes.values(), default=0)


def _work(node) -> int:
    """Run `node` to the end; its exit code."""
    try:
        node.run()
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    except Exception as exc:  # noqa: BLE001 - classified by _verdict
        return _verdict(node, exc)
    return 0


def _verdict(node, exc: BaseException) -> int:
    if isinstance(exc, InputError):
        _log(node, f'error: {exc}')
        return 2
    if isinstance(exc, (NodeWorkFailed, TimeoutError)):   # a refused blob (BlobRejected) is a NodeWorkFailed
        _log(node, f'failed: {exc}')
        return 1
    # A bug: log where it happened, then fail the run.
    _log(node, f'crashed:\n{"".join(traceback.format_exception(exc))}')
    return 1


TEARDOWN_S = 10.0   # DDS teardown of a fleet process: a few hundred ms when healthy
SIGEV_THREAD = 2    # <bits/sigevent-consts.h>: a timer notifies by calling a function in a new thread


def _leave_within(seconds: float, code: int) -> None:
    """End the process with `code` after `seconds` unless it has ended by then, stacks first. A
    Python timer covers a teardown that waits with the GIL released. One that holds it (seen in CI:
    the server's destroy_node inside rmw_fastrtps, the GIL held) stops every Python thread, so
    faulthandler's C thread prints the stacks at 2·`seconds` and a POSIX timer's own thread calls
    `_exit(code)` a second later; neither needs the GIL."""
    def expire():
        print(f'teardown still running after {seconds:.0f} s; leaving with code {code}. Every thread:',
              file=sys.stderr, flush=True)
        faulthandler.dump_traceback(all_threads=True)
        os._exit(code)
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        _exit_after(2 * seconds + 1, code)
        faulthandler.dump_traceback_later(2 * seconds)
    except (AttributeError, OSError):   # no POSIX timers in this libc: faulthandler ends it, with code 1
        faulthandler.dump_traceback_later(2 * seconds, exit=True)


class _SigEvent(ctypes.Structure):
    """glibc's `struct sigevent` on 64-bit Linux (64 bytes), for a SIGEV_THREAD timer."""
    _fields_ = [('value', ctypes.c_void_p), ('signo', ctypes.c_int), ('notify', ctypes.c_int),
                ('function', ctypes.c_void_p), ('attributes', ctypes.c_void_p), ('_pad', ctypes.c_byte * 32)]


class _TimeSpec(ctypes.Structure):
    _fields_ = [('seconds', ctypes.c_long), ('nanoseconds', ctypes.c_long)]


class _ITimerSpec(ctypes.Structure):
    _fields_ = [('interval', _TimeSpec), ('value', _TimeSpec)]


def _exit_after(seconds: float, code: int) -> None:
    """Arm a POSIX timer whose expiry runs `_exit(code)` in a thread of its own, outside Python. The
    timer passes its `sigval` (here `code`) as the one integer argument, which `_exit` takes."""
    libc = ctypes.CDLL(None, use_errno=True)
    timer = ctypes.c_void_p()
    event = _SigEvent(value=code, notify=SIGEV_THREAD, function=ctypes.cast(libc._exit, ctypes.c_void_p))
    if libc.timer_create(time.CLOCK_MONOTONIC, ctypes.byref(event), ctypes.byref(timer)) != 0:
        raise OSError(ctypes.get_errno(), 'timer_create')
    whole = int(seconds)
    spec = _ITimerSpec(value=_TimeSpec(whole, int((seconds - whole) * 1e9)))
    if libc.timer_settime(timer, 0, ctypes.byref(spec), None) != 0:
        raise OSError(ctypes.get_errno(), 'timer_settime')


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _log(node, message: str) -> None:
    if node is not None:
        node.get_logger().error(message)
    else:
        print(message, file=sys.stderr, flush=True)
