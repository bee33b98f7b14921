"""Model weights over ROS 2 services: ModelBlob building, sha256 checked on receipt, blocking calls.

Payloads go in as `bytes` and come out through a memoryview: for 4 MB that is about 4 ms and
3 ms here, against 280 ms to assign the same field from a list of ints.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from mtf_grasp_interfaces.msg import ModelBlob
from mtf_grasp_interfaces.srv import SubmitModel


class BlobRejected(Exception):
    """A received blob failed a transport check; `reason` is a one-line explanation."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ServiceTimeout(TimeoutError):
    """A service did not appear or did not answer in time."""


@dataclass(frozen=True)
class BlobHeader:
    """Who sent the weights, for which round, and how much training is behind them."""

    sender: str
    architecture: str
    round_index: int
    version: int
    sample_count: int = 0
    local_steps: float = 0.0


def make_blob(payload: bytes, *, header: BlobHeader, encoding: str, metadata_json: str = '',
              sha256: str | None = None) -> ModelBlob:
    """A ModelBlob carrying `payload`; its digest is computed here unless the codec gave one."""
    blob = ModelBlob(sender=header.sender, architecture=header.architecture,
                     round=header.round_index, version=header.version,
                     sample_count=header.sample_count, local_steps=float(header.local_steps),
                     encoding=encoding, metadata_json=metadata_json,
                     sha256=sha256 or hashlib.sha256(payload).hexdigest())
    blob.payload = payload  # one buffer copy, not a per-byte loop
    return blob


def received_payload(blob: ModelBlob) -> bytes:
    """The blob's payload bytes after checking them against the digest the sender declared."""
    view = memoryview(blob.payload)
    digest = hashlib.sha256(view).hexdigest()
    if digest != blob.sha256:
        raise BlobRejected(f'sha256 mismatch from {blob.sender or "?"} (round {blob.round}): '
                           f'declared {blob.sha256[:12] or "nothing"}, received {digest[:12]}')
    return view.tobytes()


def header_of(blob: ModelBlob) -> BlobHeader:
    return BlobHeader(sender=blob.sender, architecture=blob.architecture, round_index=blob.round,
                      version=blob.version, sample_count=blob.sample_count,
                      local_steps=blob.local_steps)


def call_service(client, request, *, timeout_s: float):
    """Call `client` and block this thread for the response.

    The node must be spun by an executor in another thread (the nodes run their round logic
    in the main thread and spin a MultiThreadedExecutor beside it), so waiting here never
    starves the callback that delivers the response.
    """
    if not client.wait_for_service(timeout_sec=timeout_s):
        raise ServiceTimeout(f'service {client.service_name} not available after {timeout_s:.0f} s')
    done = threading.Event()
    future = client.call_async(request)
    future.add_done_callback(lambda _: done.set())
    if not done.wait(timeout_s):
        client.remove_pending_request(future)
        raise ServiceTimeout(f'service {client.service_name} did not answer within {timeout_s:.0f} s')
    return future.result()


def fetch_when_available(client, request, *, timeout_s: float, poll_s: float = 0.2) -> ModelBlob:
    """Ask a fetch_model service until it has the model of the requested round.

    A seed model exists only once its coordinator finished seed training, so "not available
    yet" is the normal answer for a while; only `timeout_s` without a model is an error.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        response = call_service(client, request, timeout_s=max(1.0, deadline - time.monotonic()))
        if response.available:
            return response.blob
        if time.monotonic() + poll_s > deadline:
            raise ServiceTimeout(f'{client.service_name}: no model for round {request.round} within '
                                 f'{timeout_s:.0f} s ({response.message})')
        time.sleep(poll_s)


def submit(client, blob: ModelBlob, *, timeout_s: float) -> str:
    """Push `blob`; a refusal by the receiver raises BlobRejected with its reason."""
    response = call_service(client, SubmitModel.Request(blob=blob), timeout_s=timeout_s)
    if not response.accepted:
        raise BlobRejected(f'{client.service_name} refused the model: {response.message}')
    return response.message
