"""Run a node's callbacks in a background executor so the main thread can block on service calls."""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node


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
