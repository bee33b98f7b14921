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

from mtf_grasp.federated.signing import WireBlob, sign_blob
from mtf_grasp.nodes.runtime import NodeWorkFailed


class BlobRejected(NodeWorkFailed):
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
              sha256: str | None = None, key: bytes | None = None) -> ModelBlob:
    """A ModelBlob carrying `payload`, signed with `key` (the sender's HMAC key) when given;
    its digest is computed here unless the codec gave one."""
    blob = ModelBlob(sender=header.sender, architecture=header.architecture,
                     round=header.round_index, version=header.version,
                     sample_count=header.sample_count, local_steps=float(header.local_steps),
                     encoding=encoding, metadata_json=metadata_json,
                     sha256=sha256 or hashlib.sha256(payload).hexdigest())
    if key is not None:
        blob.signature = sign_blob(_wire(blob, payload), key)
    blob.payload = payload  # one buffer copy, not a per-byte loop
    return blob


def wire_blob(blob: ModelBlob) -> WireBlob:
    """The ROS-free form of a received blob, which the SubmissionGuard judges."""
    return _wire(blob, memoryview(blob.payload).tobytes())


def _wire(blob: ModelBlob, payload: bytes) -> WireBlob:
    return WireBlob(sender=blob.sender, architecture=blob.architecture, round=blob.round,
                    version=blob.version, sample_count=blob.sample_count, local_steps=blob.local_steps,
                    encoding=blob.encoding, metadata_json=blob.metadata_json, sha256=blob.sha256,
                    payload=payload, signature=blob.signature)


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


def call_service(client, request, *, timeout_s: float, effect: threading.Event | None = None):
    """Call `client` and block this thread for the response.

    The node must be spun by an executor in another thread (the nodes run their round logic
    in the main thread and spin a MultiThreadedExecutor beside it), so waiting here never
    starves the callback that delivers the response.

    `effect`, when given, is set elsewhere once the call's effect is seen (a registration listed in
    the server's latched status): then the wait ends without the response, and None is returned.
    A response can still be lost (a server restarting, or one that answers before it has matched
    the caller's response reader); the effect spares the caller a timeout and a second call.
    """
    if not client.wait_for_service(timeout_sec=timeout_s):
        raise ServiceTimeout(f'service {client.service_name} not available after {timeout_s:.0f} s')
    done = threading.Event()
    future = client.call_async(request)
    future.add_done_callback(lambda _: done.set())
    deadline = time.monotonic() + timeout_s
    while not done.wait(min(_EFFECT_POLL_S, max(0.0, deadline - time.monotonic())) if effect else timeout_s):
        if effect is not None and effect.is_set():
            client.remove_pending_request(future)
            return None
        if effect is None or time.monotonic() >= deadline:
            client.remove_pending_request(future)
            raise ServiceTimeout(f'service {client.service_name} did not answer within {timeout_s:.0f} s')
    return future.result()


_EFFECT_POLL_S = 0.1  # how often call_service looks at its `effect` while it waits


def with_retries(call, *, retries: int, backoff_s: float, log=None, what: str = 'call'):
    """`call()`, tried again after a ServiceTimeout or RoundNotOpen up to `retries` times,
    pausing `backoff_s`, then twice as long each time (at most 10 s): a server that restarts or a
    stalled network costs a few tries, not the robot."""
    pause = backoff_s
    for attempt in range(retries + 1):
        try:
            return call()
        except (ServiceTimeout, RoundNotOpen) as exc:
            if attempt == retries:
                raise
            if log is not None:
                log(f'{what}: {exc}; try {attempt + 2} of {retries + 1} in {pause:.1f} s')
            time.sleep(pause)
            pause = min(2 * pause, 10.0)
    raise AssertionError('unreachable')


class RoundNotOpen(Exception):
    """The receiver has not opened the blob's round yet (e.g. a restarted server still waits
    for registrations); the submission can be tried again."""


NOT_OPEN = 'round not open yet'  # how a receiver says so in SubmitModel.Response.message


def receipt_msg(blob: ModelBlob) -> ModelBlob:
    """`blob` without its payload (signing.receipt_of): still signed by its sender, it names the model
    by its sha256."""
    return ModelBlob(sender=blob.sender, architecture=blob.architecture, round=blob.round, version=blob.version,
                     sample_count=blob.sample_count, local_steps=blob.local_steps, encoding=blob.encoding,
                     metadata_json=blob.metadata_json, sha256=blob.sha256, signature=blob.signature)


def submit(client, blob: ModelBlob, *, timeout_s: float, receipts=()) -> str:
    """Push `blob` (with the `receipts` a coordinator forwards); a refusal by the receiver raises
    BlobRejected with its reason, or RoundNotOpen when the receiver is not ready for the round."""
    response = call_service(client, SubmitModel.Request(blob=blob, receipts=list(receipts)), timeout_s=timeout_s)
    if not response.accepted:
        if response.message.startswith(NOT_OPEN):
            raise RoundNotOpen(response.message)
        raise BlobRejected(f'{client.service_name} refused the model: {response.message}')
    return response.message
