"""The server's audits of its coordinators in the ROS fleet (federated/audit.py).

Each round, each cluster model is audited with the config's `audit_rate` (a seeded draw the
coordinator cannot predict): the server fetches the coordinator's own model and the model each
planned member sent it, from the robots' audit services (every blob signed by its sender and
judged by a SubmissionGuard), recomputes eq. 8 as the coordinator had to, and replaces a cluster
model that differs by the recomputation (`audit_mismatch`). An audit that cannot fetch a model the
coordinator may have counted (a member down since) is inconclusive and logged, never a mismatch.
With a direction check the server hands the auditor the fleet's last step, as the robots decode the
global models, for the pair tie-breaker (audit.caught also accepts eq. 8 without it); with a fit
check, which needs the coordinator's data, it accepts eq. 8 without any minority of the members.
Each fetched model is one more transfer to the server: (m + 1)·|θ| per audited cluster of m members.
"""
from __future__ import annotations

import dataclasses
from functools import partial

from mtf_grasp_interfaces.srv import FetchModel

from mtf_grasp.federated.admission import SubmissionGuard
from mtf_grasp.federated.audit import AUDIT_MISMATCH, audited, caught
from mtf_grasp.federated.rounds import cluster_aggregate
from mtf_grasp.fleet import SERVER_ID
from mtf_grasp.nodes.blob_transport import ServiceTimeout, call_service, wire_blob
from mtf_grasp.nodes.fleet import names


class ClusterAuditor:
    def __init__(self, node, *, fleet, keys: dict[str, bytes], report, callback_group):
        self._node = node
        self._fleet = fleet
        self._guard = SubmissionGuard(keys=keys, spec=fleet.spec)
        self._report = report
        self._group = callback_group
        self._clients = {}

    @property
    def rate(self) -> float:
        return self._fleet.config.defences.audit_rate

    def audit(self, plan, arrived: list, *, global_state, last_step, version: int, record) -> list:
        """`arrived` (the round's cluster models), each audited cluster whose model differs from the
        recomputation replaced by it (`last_step`: the fleet's, or None); each catch goes to `record`
        (defences.recorder)."""
        checked = []
        for update in arrived:
            coordinator = update.robot_id
            if coordinator in plan.top_level and audited(seed=self._fleet.seed, round_index=plan.round_index,
                                                         coordinator=coordinator, rate=self.rate):
                fetched = self._fetched(plan, coordinator, version=version)
                fit_checked = ([m.robot_id for m in fetched[1]] if fetched is not None
                               and self._fleet.config.defences.fit_ratio is not None else ())
                honest = None if fetched is None else caught(
                    update.state, partial(self._recomputed, plan, *fetched, global_state=global_state), global_state,
                    last_step=last_step, fit_checked=fit_checked)
                if honest is not None:
                    record(reason=AUDIT_MISMATCH, robot_id=coordinator)
                    self._node.get_logger().warning(
                        f'round {plan.round_index}: audit of {coordinator}: its cluster model is not eq. 8 of '
                        'the models its members sent; replaced by the recomputation, and it is not top-level again')
                    update = honest
            checked.append(update)
        return checked

    def _fetched(self, plan, coordinator: str, *, version: int):
        """(own model, the members' sent models, the seed) of the coordinator's cluster; None when the
        audit cannot conclude: no own model, or a member that did not answer or sent what the guard
        refuses (leaving out a model the coordinator may have counted would make an honest coordinator
        look like a liar). A member that answers that it sent nothing is left out."""
        index = plan.round_index
        log = self._node.get_logger().warning
        try:
            own = self._fetch(names.own_model(coordinator), coordinator, index, version)
            if own is None:
                raise Inconclusive('no own model')
            members = [self._fetch(names.sent_model(m), m, index, version) for m in plan.clusters[coordinator]]
            seed = own
            if self._fleet.continuation_epochs and self._fleet.config.defences.needs_reference:
                seed = self._fetch(names.seed_model(coordinator), coordinator, index, version)  # the tier's reference
                if seed is None:
                    raise Inconclusive('no seed model')
        except Inconclusive as exc:
            log(f'round {index}: audit of {coordinator} inconclusive: {exc}')
            return None
        return own, [m for m in members if m is not None], seed

    def _recomputed(self, plan, own, members, seed, last_step, left_out, *, global_state):
        """Eq. 8 as the coordinator had to aggregate it without the members `left_out` (the codec's
        rounding included)."""
        members = [m for m in members if m.robot_id not in left_out]
        honest = cluster_aggregate(own, members, base=self._fleet.base, reading=self._fleet.tier_reading,
                                   global_state=global_state, defences=self._fleet.config.defences,
                                   seed_state=seed.state, ceilings=plan.registered, last_step=last_step)
        if honest is None:
            return None
        encoded = self._fleet.encode(honest.state)
        return dataclasses.replace(honest, state=self._fleet.decode(encoded.payload, encoded))

    def _fetch(self, service: str, sender: str, round_index: int, version: int):
        """The ModelUpdate `sender` serves at `service` for the round, judged; None when it answers that
        it has none; Inconclusive when it does not answer or the guard refuses what it sends."""
        if service not in self._clients:
            self._clients[service] = self._node.create_client(FetchModel, service, qos_profile=names.SERVICE_QOS,
                                                              callback_group=self._group)
        request = FetchModel.Request(requester=SERVER_ID, round=round_index)
        try:
            response = call_service(self._clients[service], request, timeout_s=self._node.params.service_timeout_s)
        except ServiceTimeout:
            raise Inconclusive(f'no answer from {service}') from None
        if not response.available:
            return None
        verdict = self._guard.check(wire_blob(response.blob), round_id=round_index, submitted=(),
                                    expected_senders=(sender,), version=version)
        if not verdict.accepted:
            raise Inconclusive(f'refused the model from {service}: {verdict.message}')
        self._report.transfer(round_index=round_index, sender=sender, receiver=SERVER_ID,
                              payload_bytes=len(response.blob.payload))
        return verdict.update


class Inconclusive(Exception):
    """An audit that cannot recompute eq. 8 from every model the coordinator may have counted."""
