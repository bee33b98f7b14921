"""The `main` of a node process: init, build, run, and a one-line error for bad parameters."""
from __future__ import annotations

import sys
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node

from mtf_grasp.errors import InputError


def run_node(name: str, build: Callable[[], Node], *, work: Callable[[Node], object] | None = None,
             executor_factory: Callable[[], object] = SingleThreadedExecutor, args=None) -> int:
    """Build the node and spin it until Ctrl-C (or, with `work`, call `work(node)` and return when
    it does). A bad parameter (InputError) prints `name: error: ...` and returns 2."""
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
