"""A robot sends its model upstream (to its coordinator or the server) and survives the answer:
service outages are retried with backoff; a refusal (late, duplicate) is logged, not fatal, so
one lost model never stops a robot from taking part in the next round."""
from __future__ import annotations

from mtf_grasp.nodes.blob_transport import BlobRejected, RoundNotOpen, ServiceTimeout, submit, with_retries


def send_model(client, blob, *, params, logger, what: str, receipts=()) -> bool:
    """Submit `blob` (and a coordinator's `receipts`) through `client`; True when the receiver accepted it."""
    try:
        with_retries(lambda: submit(client, blob, timeout_s=params.service_timeout_s, receipts=receipts),
                     retries=params.retries, backoff_s=params.retry_backoff_s, log=logger.warning, what=what)
    except BlobRejected as exc:
        logger.warning(f'{what}: {exc.reason}')
        return False
    except (ServiceTimeout, RoundNotOpen) as exc:
        logger.error(f'{what}: gave up after {params.retries + 1} tries: {exc}')
        return False
    return True
