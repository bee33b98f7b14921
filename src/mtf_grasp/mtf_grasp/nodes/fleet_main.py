"""The `main` of the fleet nodes (fl_server, tier_coordinator, fl_client): init, spin callbacks
beside the node's blocking round logic, exit cleanly.

Exit codes: 0 when the node's work is done or it is stopped (Ctrl-C, SIGTERM), 1 when its work
failed (a round that cannot finish), 2 for bad parameters or input files.
"""
from __future__ import annotations

import signal
import sys
import traceback

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
    # Python's own SIGINT handling (and SIGTERM alike) interrupts the main thread wherever it
    # waits; rclpy's handlers would only stop the executor and leave the round logic blocked.
    signal.signal(signal.SIGTERM, _interrupt)
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    code = 0
    try:
        node = node_class()
        threads = node.fleet.config.torch_threads  # as `mtf-grasp experiment`: same kernels, same floats
        if threads > 0:
            import torch
            torch.set_num_threads(threads)
        with spinning(node):
            node.run()
    except (KeyboardInterrupt, ExternalShutdownException):
        code = 0
    except InputError as exc:
        _log(node, f'error: {exc}')
        code = 2
    except (NodeWorkFailed, TimeoutError, BlobRejected) as exc:
        _log(node, f'failed: {exc}')
        code = 1
    except Exception:  # noqa: BLE001 - a bug: log where it happened, then fail the run
        _log(node, f'crashed:\n{traceback.format_exc()}')
        code = 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    sys.exit(code)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _log(node, message: str) -> None:
    if node is not None:
        node.get_logger().error(message)
    else:
        print(message, file=sys.stderr, flush=True)
