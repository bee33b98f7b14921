"""A fleet-style node process whose shutdown would hang: usage `stuck_node.py MODE DIR`.

Its one timer callback blocks an executor worker for ever (as a callback stuck in a DDS call
would). Its round logic waits until that callback runs, prints `ready`, waits for DIR/go, then ends:
- MODE `done`: the work succeeds (exit code 0);
- MODE `teardown`: the work fails with bad input (exit code 2) and destroy_node never returns;
- MODE `teardown_gil`: the same, but destroy_node blocks in C holding the GIL (as rmw teardown can).
"""
import ctypes
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from rclpy.node import Node

from mtf_grasp.errors import InputError
from mtf_grasp.nodes.runtime import run_fleet_node

MODE, DIR = sys.argv[1], Path(sys.argv[2])


class StuckNode(Node):
    fleet = SimpleNamespace(config=SimpleNamespace(torch_threads=0))   # what run_fleet_nodes reads

    def __init__(self):
        super().__init__('stuck_node')
        self._in_callback = threading.Event()
        self.create_timer(0.01, self._block)   # one callback group: the timer never runs twice at once

    def _block(self):
        self._in_callback.set()
        threading.Event().wait()

    def run(self):
        self._in_callback.wait()
        print('ready', flush=True)
        while not (DIR / 'go').exists():
            time.sleep(0.01)
        if MODE.startswith('teardown'):
            raise InputError('finished, and teardown will hang')

    def destroy_node(self):
        if MODE == 'teardown':
            threading.Event().wait()
        if MODE == 'teardown_gil':
            ctypes.PyDLL(None).pause()   # a PyDLL call keeps the GIL: no Python thread runs again
        super().destroy_node()


if __name__ == '__main__':
    run_fleet_node(StuckNode)
