"""The server's receipts check of its coordinators in the ROS fleet (`defences.check_members`,
federated/audit.py).

Each member publishes a receipt of the model its coordinator accepted (the blob without its
payload, signed by the member over the model's sha256) on /fleet/receipts; each coordinator
forwards with its cluster model the receipts of the member models it counted. A planned member
whose receipt the server holds but the coordinator did not forward is `member_missing`. With
`defences.check_claims`, coordinators publish a receipt of their seed as well, and the signed step
counts judge the robots' claimed profiles (plausibility.implausible_in_fleet). Receipts cost O(n)
small messages per round; a receipt whose signature fails is dropped.
"""
from __future__ import annotations

import threading

from mtf_grasp_interfaces.msg import ModelBlob

from mtf_grasp.federated.audit import MEMBER_MISSING, missing_members
from mtf_grasp.federated.signing import verify_receipt
from mtf_grasp.nodes.blob_transport import wire_blob
from mtf_grasp.nodes.fleet import names

# A member publishes its receipt as soon as its coordinator accepts its model, before the cluster
# model can reach the server; this covers the delivery of the last one.
RECEIPT_GRACE_S = 2.0


class MemberReceipts:
    def __init__(self, node, *, keys: dict[str, bytes], callback_group):
        self._node = node
        self._keys = keys
        self._changed = threading.Condition()
        # round -> robot -> (sha256, local_steps) of its own receipt
        self._signed: dict[int, dict[str, tuple[str, float]]] = {}
        self._counted: dict[tuple[int, str], dict[str, str]] = {}  # (round, coordinator) -> member -> sha256
        node.create_subscription(ModelBlob, names.RECEIPTS, self._on_receipt, names.RECEIPT_QOS,
                                 callback_group=callback_group)

    def _verified(self, messages) -> dict[str, tuple[int, str, float]]:
        """member -> (round, sha256, local_steps) of the receipts in `messages` its key signed."""
        receipts = {}
        for receipt in map(wire_blob, messages):
            key = self._keys.get(receipt.sender)
            if key is not None and verify_receipt(receipt, key):
                receipts[receipt.sender] = (receipt.round, receipt.sha256, receipt.local_steps)
            else:
                self._node.get_logger().warning(f'dropped a receipt from {receipt.sender!r}: not signed by '
                                                'that roster member', throttle_duration_sec=10.0)
        return receipts

    def _on_receipt(self, message) -> None:
        for robot, (round_index, sha256, steps) in self._verified([message]).items():
            with self._changed:
                self._signed.setdefault(round_index, {})[robot] = (sha256, steps)
                self._changed.notify_all()

    def forwarded(self, *, round_index: int, coordinator: str, receipts) -> None:
        """The receipts `coordinator` sent with its accepted cluster model of `round_index`."""
        counted = {m: sha for m, (r, sha, _) in self._verified(receipts).items() if r == round_index}
        with self._changed:
            self._counted[(round_index, coordinator)] = counted

    def close_round(self, plan, arrived, *, record, check_members: bool) -> dict[str, float]:
        """With `check_members`, record `member_missing` for each coordinator in `arrived` that left
        out a model one of its planned members says it sent. Forget the round's receipts; return
        the step counts they signed (robot -> local_steps)."""
        index = plan.round_index
        clusters = {u.robot_id: plan.clusters[u.robot_id] for u in arrived if u.robot_id in plan.clusters}
        planned = {m for members in clusters.values() for m in members}
        with self._changed:
            self._changed.wait_for(lambda: planned <= set(self._signed.get(index, {})), RECEIPT_GRACE_S)
            signed = self._signed.pop(index, {})
            counted = {c: self._counted.pop((index, c), {}) for c in clusters}
        sent = {robot: sha256 for robot, (sha256, _) in signed.items()}
        for coordinator, members in (clusters.items() if check_members else ()):
            matching = [m for m, sha in counted[coordinator].items() if sent.get(m) == sha]
            missing = missing_members([m for m in members if m in sent], matching)
            if missing:
                record(reason=MEMBER_MISSING, robot_id=coordinator)
                self._node.get_logger().warning(
                    f'round {index}: {coordinator} did not count the models {", ".join(missing)} sent it; '
                    'it is not top-level again')
        return {robot: steps for robot, (_, steps) in signed.items()}
