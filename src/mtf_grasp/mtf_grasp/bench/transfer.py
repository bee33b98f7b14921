"""Model transfer over a ROS 2 service against a raw topic message of the same size."""
from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import threading
import time

from mtf_grasp.errors import InputError
from mtf_grasp.supervisor import end_process

MB = 1e6
WARM_UP_TRIES = 3          # a warm-up transfer whose reply is lost is sent again...
WARM_UP_TIMEOUT_S = 10.0   # ...after this long


def add_arguments(parser) -> None:
    parser.add_argument('--model-mb', type=float, default=None,
                        help='payload size in MB (default: the size of a GR-ConvNet width-32 model)')
    parser.add_argument('--repeats', type=int, default=20, help='timed transfers per transport')
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds to wait for the peer')


def run(args) -> dict:
    if args.repeats < 1:
        raise InputError(f'--repeats: must be at least 1, got {args.repeats}')
    payload = _payload(args.model_mb)
    env = {**os.environ, 'FASTDDS_BUILTIN_TRANSPORTS': os.environ.get('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA')}
    os.environ.update(env)  # this process speaks to the peer over the same transports
    peer = subprocess.Popen([sys.executable, '-m', 'mtf_grasp.bench._transfer_peer'], env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        service_s, topic_s = _measure(payload, repeats=args.repeats, timeout_s=args.timeout)
    finally:
        end_process(peer)
    model_mb = len(payload) / MB
    service_mb_s = model_mb / statistics.median(service_s)
    raw_topic_mb_s = model_mb / statistics.median(topic_s)
    return {'model_mb': round(model_mb, 3), 'service_mb_s': round(service_mb_s, 1),
            'raw_topic_mb_s': round(raw_topic_mb_s, 1),
            'ratio': round(service_mb_s / raw_topic_mb_s, 3), 'repeats': args.repeats,
            'transports': env['FASTDDS_BUILTIN_TRANSPORTS']}


def _payload(model_mb: float | None) -> bytes:
    if model_mb is None:
        return _reference_model_bytes()
    if model_mb <= 0:
        raise InputError(f'--model-mb: must be positive, got {model_mb}')
    return os.urandom(int(model_mb * MB))


def _reference_model_bytes() -> bytes:
    from mtf_grasp.federated import encode_state
    from mtf_grasp.grasping import ModelSpec, build_model

    spec = ModelSpec(arch='grconvnet', width=32)
    return encode_state(build_model(spec).state_dict(), spec=spec, dtype='fp32').payload


def _measure(payload: bytes, *, repeats: int, timeout_s: float) -> tuple[list[float], list[float]]:
    """Interleaved timings, so both transports see the same load: (service s, topic s) per transfer."""
    import rclpy
    from mtf_grasp_interfaces.msg import ModelBlob
    from mtf_grasp_interfaces.srv import SubmitModel
    from std_msgs.msg import UInt32

    from mtf_grasp.bench._transfer_peer import RELIABLE_ONE
    from mtf_grasp.nodes.blob_transport import BlobHeader, call_service, make_blob, with_retries
    from mtf_grasp.nodes.runtime import spinning

    rclpy.init()
    node = rclpy.create_node('bench_transfer')
    client = node.create_client(SubmitModel, 'bench_submit')
    raw = node.create_publisher(ModelBlob, 'bench_raw', RELIABLE_ONE)
    acked = threading.Event()
    node.create_subscription(UInt32, 'bench_ack', lambda _: acked.set(), RELIABLE_ONE)
    header = BlobHeader(sender='bench', architecture='bench', round_index=0, version=0)
    digest = hashlib.sha256(payload).hexdigest()  # once, as the model codec does when encoding
    try:
        with spinning(node):
            _wait_for_peer(node, client, raw, timeout_s)
            service_s, topic_s = [], []
            for i in range(repeats + 2):  # the first two of each warm up the transports
                # A warm-up transfer can meet a reply path that has not matched yet, and its reply
                # is then lost for good: it is tried again after a short wait. Timed ones are not.
                tries, limit = (WARM_UP_TRIES, min(WARM_UP_TIMEOUT_S, timeout_s)) if i < 2 else (1, timeout_s)
                blob = make_blob(payload, header=header, encoding='raw', sha256=digest)
                start = time.perf_counter()
                response = with_retries(lambda: call_service(client, SubmitModel.Request(blob=blob), timeout_s=limit),
                                        retries=tries - 1, backoff_s=0.1)
                service_s.append(time.perf_counter() - start)
                if not response.accepted:
                    raise RuntimeError(f'peer rejected the blob: {response.message}')
                start = time.perf_counter()
                for _ in range(tries):
                    acked.clear()
                    raw.publish(make_blob(payload, header=header, encoding='raw', sha256=digest))
                    if acked.wait(limit):
                        break
                else:
                    raise TimeoutError(f'no acknowledgement of raw message {i} within {limit} s')
                topic_s.append(time.perf_counter() - start)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return service_s[2:], topic_s[2:]


def _wait_for_peer(node, client, raw, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not (client.service_is_ready() and raw.get_subscription_count()
               and node.count_publishers('bench_ack')):
        if time.monotonic() > deadline:
            raise TimeoutError(f'transfer peer did not appear within {timeout_s} s')
        time.sleep(0.05)
    time.sleep(0.5)  # let the ack subscription match the peer's publisher too
