"""A robot node's answer to an audit: the signed model it sent (or, as a coordinator, its own
model of the cluster) in one round, served on a FetchModel service for the server to recompute
eq. 8 (federated/audit.py). Only the latest round's model is kept."""
from __future__ import annotations

import threading

from mtf_grasp_interfaces.srv import FetchModel

from mtf_grasp.nodes.fleet import names


class RoundModelService:
    def __init__(self, node, name: str, *, what: str, callback_group):
        self._what = what
        self._lock = threading.Lock()
        self._kept = None    # (round, ModelBlob)
        node.create_service(FetchModel, name, self._on_fetch, qos_profile=names.SERVICE_QOS,
                            callback_group=callback_group)

    def keep(self, round_index: int, blob) -> None:
        """Serve `blob` for `round_index` from now on (None: nothing for that round)."""
        with self._lock:
            self._kept = (round_index, blob)

    def _on_fetch(self, request, response):
        with self._lock:
            kept = self._kept
        if kept is None or kept[0] != request.round or kept[1] is None:
            response.available = False
            response.message = f'no {self._what} of round {request.round}'
        else:
            response.available, response.blob = True, kept[1]
            response.message = f'{self._what} of round {request.round}'
        return response
