"""How many of m simultaneous calls to one ROS 2 service are answered, under ROS's default service
QoS and under the fleet's (names.SERVICE_QOS: every request and response kept).

A cluster's members ask their coordinator for the seed at about the same moment, as robots ask the
server for the global model and register with it. Here one process serves a FetchModel service
whose answer carries a model-sized payload; this process creates m callers (one node each, on one
executor, as robots share a process under `robots_per_process`), makes one call per caller one at a
time so that every caller is matched, then sends all m calls at once and counts the answers that
arrive within `--wait` seconds.

    python benchmarks/service_burst.py --callers 10,25,50 --out docs/results/service_burst.json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

PAYLOAD_BYTES = 295_720     # the scale benchmark's model on the wire (GG-CNN2, 64 px RGB-D, fp32)
SERVICE = '/burst/fetch_model'


def qos(name: str):
    from rclpy.qos import qos_profile_services_default

    from mtf_grasp.nodes.fleet import names

    return {'default': qos_profile_services_default, 'fleet': names.SERVICE_QOS}[name]


def serve(qos_name: str) -> None:
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from mtf_grasp_interfaces.srv import FetchModel

    rclpy.init()
    node = rclpy.create_node('burst_server')
    payload = bytes(PAYLOAD_BYTES)

    def on_fetch(request, response):
        response.available, response.blob.payload = True, payload
        return response

    node.create_service(FetchModel, SERVICE, on_fetch, qos_profile=qos(qos_name))
    print('ready', flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):   # terminated by the benchmark
        pass


def burst(qos_name: str, callers: int, *, wait_s: float) -> dict:
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from mtf_grasp_interfaces.srv import FetchModel

    from mtf_grasp.supervisor import end_process

    server = subprocess.Popen([sys.executable, __file__, '--serve', qos_name], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert server.stdout.readline().strip() == 'ready'
        nodes = [rclpy.create_node(f'burst_caller_{i}') for i in range(callers)]
        executor = MultiThreadedExecutor(num_threads=4)
        for node in nodes:
            executor.add_node(node)
        threading.Thread(target=executor.spin, daemon=True).start()
        clients = [node.create_client(FetchModel, SERVICE, qos_profile=qos(qos_name)) for node in nodes]
        request = FetchModel.Request(requester='burst', round=0)
        for client in clients:   # matched: each caller's own call answered, one at a time
            assert client.wait_for_service(timeout_sec=60)
            done = threading.Event()
            client.call_async(request).add_done_callback(lambda _: done.set())
            if not done.wait(30):
                raise RuntimeError(f'{callers} callers ({qos_name}): a lone call was not answered in 30 s')
        answers = []
        lock = threading.Lock()
        cpu_started, started = time.process_time(), time.perf_counter()

        def answered(_):
            with lock:
                answers.append(time.perf_counter() - started)

        for client in clients:
            client.call_async(request).add_done_callback(answered)
        deadline = time.monotonic() + wait_s
        while len(answers) < callers and time.monotonic() < deadline:
            time.sleep(0.01)
        cpu_s = time.process_time() - cpu_started
        executor.shutdown(timeout_sec=5)
        for node in nodes:
            node.destroy_node()
        return {'qos': qos_name, 'callers': callers, 'answered': len(answers), 'wait_s': wait_s,
                'last_answer_s': round(max(answers), 3) if answers else None, 'callers_cpu_s': round(cpu_s, 3)}
    finally:
        end_process(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--callers', default='10,25,50', help='comma-separated numbers of simultaneous callers')
    parser.add_argument('--wait', type=float, default=15.0, help='seconds to wait for the answers of a burst')
    parser.add_argument('--out', type=Path, default=None, help='write the JSON here as well')
    parser.add_argument('--serve', choices=['default', 'fleet'], default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    import rclpy

    from mtf_grasp.grasping.device import describe_machine

    os.environ.setdefault('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA')   # as the fleet's nodes
    rclpy.init()
    runs = [burst(name, int(m), wait_s=args.wait) for m in args.callers.split(',') for name in ('default', 'fleet')]
    result = {'command': ' '.join(['python', 'benchmarks/service_burst.py', *sys.argv[1:]]),
              'machine': describe_machine('cpu', 'fp32')['cpu'], 'payload_bytes': PAYLOAD_BYTES, 'runs': runs}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + '\n')
    rclpy.shutdown()


if __name__ == '__main__':
    main()
