"""The server's seed check in the ROS fleet (`defences.seed_ratio`, federated/seed_check.py).

Each low-level robot publishes its coordinator's seed's loss on its own data on /fleet/seed_reports,
signed, as soon as it has the seed (before fine-tuning), so the reports are in long before the
cluster models. At the round's close the server takes, for each cluster whose model arrived, the
reports of that cluster's planned members, and leaves out the cluster models the check refuses
(their coordinators are never top-level again: defences.ruled_out). A report whose signature fails
or whose loss is no positive number is dropped with a throttled warning; one from a robot that is
not a planned member of the coordinator it names is not counted. One small message per low-level
robot a round.
"""
from __future__ import annotations

import math
import threading

from mtf_grasp_interfaces.msg import SeedReport

from mtf_grasp.federated.defences import seeds_refused
from mtf_grasp.federated.signing import verify_seed_report
from mtf_grasp.nodes.fleet import names
from mtf_grasp.nodes.fleet.member_receipts import RECEIPT_GRACE_S
from mtf_grasp.nodes.fleet.messages import seed_report_from_msg


class SeedReports:
    def __init__(self, node, *, keys: dict[str, bytes], callback_group):
        self._node = node
        self._keys = keys
        self._changed = threading.Condition()
        self._reports: dict[int, dict[str, tuple[str, float]]] = {}   # round -> member -> (coordinator, loss)
        node.create_subscription(SeedReport, names.SEED_REPORTS, self._on_report, names.RECEIPT_QOS,
                                 callback_group=callback_group)

    def _on_report(self, message) -> None:
        report = seed_report_from_msg(message)
        key = self._keys.get(report.sender)
        signed = key is not None and verify_seed_report(report, message.signature, key)
        problem = ('not signed by that roster member' if not signed
                   else f'loss {report.loss} is no positive number' if not (report.loss > 0 or math.isnan(report.loss))
                   else '')
        if problem:
            self._node.get_logger().warning(f'dropped a seed report from {report.sender!r}: {problem}',
                                            throttle_duration_sec=10.0)
            return
        with self._changed:
            self._reports.setdefault(report.round, {})[report.sender] = (report.coordinator, report.loss)
            self._changed.notify_all()

    def judge(self, plan, arrived, *, defences, record) -> list:
        """`arrived` without the cluster models the seed check refuses (each refusal recorded and
        logged); the round's reports, and older ones, are forgotten."""
        index = plan.round_index
        clusters = {u.robot_id: plan.clusters[u.robot_id] for u in arrived if u.robot_id in plan.clusters}
        planned = {m for members in clusters.values() for m in members}
        with self._changed:
            self._changed.wait_for(lambda: planned <= set(self._reports.get(index, {})), RECEIPT_GRACE_S)
            got = self._reports.pop(index, {})
            self._reports = {r: held for r, held in self._reports.items() if r > index}
        reports = {c: [got[m][1] for m in members if m in got and got[m][0] == c] for c, members in clusters.items()}
        refused = seeds_refused(reports, defences=defences, record=record)
        for coordinator in sorted(refused):
            self._node.get_logger().warning(f"round {index}: {coordinator}'s seed fits its members' data far worse "
                                            "than the other clusters' seeds fit theirs; its cluster model is left out "
                                            'and it is not top-level again')
        return [u for u in arrived if u.robot_id not in refused]
