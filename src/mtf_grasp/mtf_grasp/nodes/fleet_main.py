"""The `main` of the fleet nodes (fl_server, tier_coordinator, fl_client, robot_group): init, spin
callbacks beside each node's blocking round logic, exit cleanly.

A process runs one node, or several (robot_group: many robots' nodes in one process, on one
executor, each node's round logic in its own thread).

Exit codes: 0 when the nodes' work is done or they are stopped (Ctrl-C, SIGTERM), 1 when a node's
work failed (a round that cannot finish), 2 for bad parameters or input files; a process of
several nodes exits with the worst of them.
"""
from __future__ import annotations

import signal
import sys
import threading
import traceback
from typing import Callable, Sequence

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.signals import SignalHandlerOptions

from mtf_grasp.errors import InputError
from mtf_grasp.nodes.blob_transport import BlobRejected
from mtf_grasp.nodes.spinning import spinning


class NodeWorkFailed(RuntimeError):
    """The node's work cannot go on (a round past its deadline, a service that never answered)."""


def run_fleet_node(node_class, *, args=None) -> None:
    """Create `node_class()`, spin it in the background and call its blocking `run()`."""
    run_fleet_nodes([node_class], args=args)


def run_fleet_nodes(factories: Sequence[Callable[[], object]], *, args=None) -> None:
    """Create a node with each factory, spin them all on one executor in the background and call
    every node's blocking `run()` (in the main thread for one node, else one thread each)."""
    # Python's own SIGINT handling (and SIGTERM alike) interrupts the main thread wherever it
    # waits; rclpy's handlers would only stop the executor and leave the round logic blocked.
    signal.signal(signal.SIGTERM, _interrupt)
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
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
    sys.exit(code)


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
    if isinstance(exc, (NodeWorkFailed, TimeoutError, BlobRejected)):
        _log(node, f'failed: {exc}')
        return 1
    # A bug: log where it happened, then fail the run.
    _log(node, f'crashed:\n{"".join(traceback.format_exception(exc))}')
    return 1


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _log(node, message: str) -> None:
    if node is not None:
        node.get_logger().error(message)
    else:
        print(message, file=sys.stderr, flush=True)
