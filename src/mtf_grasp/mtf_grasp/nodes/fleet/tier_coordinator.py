"""tier_coordinator: a robot's top-level role. In a round that ranks its robot top-level it trains
the global model on the robot's data for `et` epochs into a seed model, publishes that seed (signed
with the robot's key) to its low-level robots on a latched topic (nodes/fleet/model_watch.py),
aggregates (eq. 8, under the experiment's `tier_aggregate` and `coordinator_epochs` reading) its own
model and those of its members that passed the SubmissionGuard by the tier deadline (with the
config's defences: rounds.py; the fit check judges the members' models on this robot's data, the
direction check's pair tie-breaker takes the global model's move over the previous round, known when
this robot received that round's global model too), and submits
the signed cluster model to the server. Under `seed_then_local` it trains on from the seed while
the members fine-tune. In other rounds, and in flat methods, it stays idle and loads nothing. For
the server's checks it forwards the receipts of the member models it counted (check_members) and
serves its seed and its own model of the cluster for an audit (audit_rate). A coordinator the
fleet's `attacks` name forges its aggregate or leaves a member out, as in the experiment.
"""
from __future__ import annotations

import dataclasses
import threading
import time

from mtf_grasp_interfaces.msg import ModelBlob
from mtf_grasp_interfaces.srv import SubmitModel
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

from mtf_grasp.federated.admission import SubmissionGuard
from mtf_grasp.federated.attacks import forged
from mtf_grasp.federated.defences import REFUSED
from mtf_grasp.federated.robust import RecentGlobals
from mtf_grasp.federated.rounds import cluster_aggregate
from mtf_grasp.fleet import SERVER_ID
from mtf_grasp.nodes.blob_transport import receipt_msg, wire_blob
from mtf_grasp.nodes.fleet import names
from mtf_grasp.nodes.fleet.context import FleetContext
from mtf_grasp.nodes.fleet.inbox import RoundInbox, noted
from mtf_grasp.nodes.fleet.injected_crash import InjectedCrash
from mtf_grasp.nodes.fleet.keys import roster_keys
from mtf_grasp.nodes.fleet.model_sending import send_model
from mtf_grasp.nodes.fleet.model_watch import ModelWatch
from mtf_grasp.nodes.fleet.params import declare_robot
from mtf_grasp.nodes.fleet.plan_watch import PlanWatch, reopened
from mtf_grasp.nodes.fleet.robot_training import RobotTraining
from mtf_grasp.nodes.fleet.round_models import RoundModelService
from mtf_grasp.nodes.fleet.round_report import RoundReport
from mtf_grasp.nodes.fleet.work_clock import WorkClock
from mtf_grasp.nodes.runtime import run_fleet_node


class TierCoordinator(Node):
    def __init__(self, name: str = 'tier_coordinator', namespace: str | None = None):
        super().__init__(name, namespace=namespace)  # robot_group names each node it hosts
        self.params = declare_robot(self)
        self.robot_id = self.params.robot_id
        self.fleet = FleetContext.load(self.params)
        self._keys = roster_keys(self.params.roster)
        # Members are robots of the fleet; the server's key only checks the global model.
        self._guard = SubmissionGuard(keys={r: k for r, k in self._keys.items() if r != SERVER_ID},
                                      spec=self.fleet.spec)
        self._report = RoundReport(self.params.report_dir, f'{self.robot_id}.coordinator')
        self._training = None  # the robot's data is loaded the first time it is top-level
        self._lock = threading.Lock()
        self._crash = InjectedCrash(crashes=self.params.crashes, robot_id=self.robot_id, node_name=self.get_name(),
                                    report_dir=self.params.report_dir)
        self._inbox = RoundInbox(round_index=0, senders=())
        self._receipts = {}     # member -> receipt of the model admitted this round (check_members)
        self._to_server = None  # (round, blob, plan seq) last cluster model sent, for a server that restarts
        self._counted = []      # ... and the receipts sent with it
        self._globals = RecentGlobals()   # for the direction check's last step
        group = ReentrantCallbackGroup()
        self.plans = PlanWatch(self, robot_id=self.robot_id, rounds=self.params.rounds, callback_group=group)
        self._seed = RoundModelService(self, names.seed_model(self.robot_id), what='seed model', callback_group=group)
        self._seed_topic = self.create_publisher(ModelBlob, names.seed_topic(self.robot_id), names.LATCHED)
        self._own = RoundModelService(self, names.own_model(self.robot_id), what='own model', callback_group=group)
        self.create_service(SubmitModel, names.submit_to_coordinator(self.robot_id), self._on_submit,
                            qos_profile=names.SERVICE_QOS, callback_group=group)
        # Subscribes on its first wait, once the robot's training (and its keys) is loaded.
        self._global = ModelWatch(self, requester=self.robot_id,
                                  check=lambda blob, source: self._training.check(blob, source=source),
                                  callback_group=group, ask_every_s=self.params.service_timeout_s)
        self._seed_receipts = (self.create_publisher(ModelBlob, names.RECEIPTS, names.RECEIPT_QOS)
                               if self.fleet.config.defences.check_claims else None)
        self._submit_cluster = self.create_client(SubmitModel, names.SUBMIT_TO_SERVER, qos_profile=names.SERVICE_QOS,
                                                  callback_group=group)

    def run(self) -> None:
        self.plans.follow(act=self._take_part, repeat=self._resend, timeout_s=self.params.round_timeout_s)
        self.get_logger().info('all rounds done')

    def _take_part(self, plan, seq: int) -> bool:
        if self._crash.missed(plan.round_index, self.get_logger().warning) or self.robot_id not in plan.top_level:
            return True
        return self._coordinate(plan.round_index, seq, members=plan.clusters[self.robot_id],
                                registered=plan.registered)

    def _coordinate(self, round_index: int, seq: int, *, members, registered) -> bool:
        log = self.get_logger()
        planned = time.monotonic()
        if self._training is None:
            self._training = RobotTraining(fleet=self.fleet, robot_id=self.robot_id, report=self._report,
                                           keys=self._keys)
        received = self._global.wait(SERVER_ID, names.ROUND_MODEL, names.GLOBAL_MODEL, round_index,
                                     timeout_s=self.params.round_timeout_s, give_up=lambda: self.plans.moved_on(seq))
        if received is None:
            log.warning(f'round {round_index}: no global model before the fleet moved on')
            return False
        blob, global_state = received
        with self._lock:
            self._inbox = RoundInbox(round_index=round_index, senders=members, version=blob.version)
            self._receipts = {}
        self._training.record_received(blob)
        seed = self._training.train(global_state, epochs=self.fleet.seed_epochs, round_index=round_index,
                                    role='seed')
        work = WorkClock()   # this node's own work outside training, for the report
        with work.timing():
            seed_blob = self._training.blob_of(seed, version=blob.version)
        self._seed.keep(round_index, seed_blob)   # for an audit
        self._seed_topic.publish(seed_blob)       # for the members
        if self._seed_receipts is not None:   # check_claims: the steps behind the seed, signed
            self._seed_receipts.publish(receipt_msg(seed_blob))
        log.info(f'round {round_index}: seed model trained for {self.fleet.seed_epochs} epochs, '
                 f'serving it to {", ".join(members) or "no members"}')
        own = seed
        if self.fleet.continuation_epochs:
            own = self._training.train(seed.state, epochs=self.fleet.continuation_epochs, round_index=round_index,
                                       role='continuation', prior_steps=seed.local_steps, purpose='continue')
        if self.fleet.config.defences.audit_rate > 0:   # what an audit recomputes eq. 8 from
            self._own.keep(round_index, seed_blob if own is seed else self._training.blob_of(own, version=blob.version))
        deadline = planned + self.params.tier_deadline_s
        if self.fleet.streaming:   # folded as they are admitted: the wait is inside the aggregation
            arrived = self._inbox.stream(deadline=deadline, clock=work)
        else:
            if not self._inbox.wait(max(0.0, deadline - time.monotonic())):
                self._deadline_passed(round_index)
            arrived = self._inbox.close()
        kinds = self.fleet.adversary.kinds(self.robot_id, round_index)
        if 'dropped_member' in kinds and members:   # the member trained and uploaded; it is not counted
            arrived = (update for update in arrived if update.robot_id != members[0])
        taken, events = [], []   # the members' models the aggregation took (without weights), in its order
        with work.timing():
            cluster = cluster_aggregate(own, noted(arrived, taken), base=self.fleet.base,
                                        reading=self.fleet.tier_reading, global_state=global_state,
                                        defences=self.fleet.config.defences,
                                        seed_state=self._as_members_got(seed_blob), ceilings=registered,
                                        last_step=self._last_step(round_index, global_state),
                                        fit_loss=self._training.fit_loss(round_index), events=events)
        if self.fleet.streaming and self._inbox.missing():
            self._deadline_passed(round_index)
        refused = {e.robot_id for e in events if e.reason in REFUSED}
        self._report.cluster(round_index=round_index, coordinator=self.robot_id,
                             members=[u.robot_id for u in taken if u.robot_id not in refused])
        self._report.defences(round_index=round_index, events=events)
        if cluster is None:
            log.warning(f'round {round_index}: the defences refused every model of the cluster; nothing to send')
            return True
        if 'forged_aggregate' in kinds:
            cluster = dataclasses.replace(cluster, state=forged(cluster.state, global_state))
        with work.timing():
            model = self._training.blob_of(cluster, version=blob.version)
        self._report.work(round_index=round_index, clock=work + self._inbox.work)
        with self._lock:
            counted = [self._receipts[u.robot_id] for u in taken if u.robot_id in self._receipts]
        if send_model(self._submit_cluster, model, params=self.params, logger=log, receipts=counted,
                      what=f'round {round_index}: cluster model to the server'):
            log.info(f'round {round_index}: cluster model of {cluster.sample_count} samples submitted to the server')
        self._to_server = (round_index, model, self.plans.seq)
        self._counted = counted
        return True

    def _deadline_passed(self, round_index: int) -> None:
        self.get_logger().warning(f'round {round_index}: tier deadline passed without '
                                  f'{", ".join(self._inbox.missing())}; aggregating the models that arrived')

    def _last_step(self, round_index: int, global_state):
        """The global model's move into `round_index` when this robot also got the previous round's
        global model (a replayed round keeps it); only the direction check uses it. Holds two global
        models at most."""
        if self.fleet.config.defences.direction_z is None:
            return None
        self._globals.keep(round_index, global_state)
        return self._globals.step_into(round_index)

    def _as_members_got(self, seed_blob):
        """The seed as the members decode it: the tier's reference (only needed by a norm bound or a
        direction check)."""
        if not self.fleet.config.defences.needs_reference:
            return None
        return self.fleet.decode(wire_blob(seed_blob).payload, seed_blob)

    def _resend(self, plan, seq: int) -> None:
        """A restarted server reopened a round whose cluster model this coordinator already sent."""
        if reopened(self._to_server, plan, seq) and self.robot_id in plan.top_level:
            what = f'round {plan.round_index}: cluster model sent again to the restarted server'
            if send_model(self._submit_cluster, self._to_server[1], params=self.params, logger=self.get_logger(),
                          what=what, receipts=self._counted):
                self.get_logger().info(f'{what}: accepted')

    def _on_submit(self, request, response):
        with self._lock:
            inbox = self._inbox
        blob = request.blob

        def accepted():   # before the inbox wakes the aggregation: the receipt it forwards, the record
            if self.fleet.config.defences.check_members:
                with self._lock:
                    if inbox is self._inbox:
                        self._receipts[blob.sender] = receipt_msg(blob)
            self._report.transfer(round_index=blob.round, sender=blob.sender, receiver=self.robot_id,
                                  payload_bytes=len(blob.payload))

        verdict = inbox.admit(wire_blob(blob), guard=self._guard, on_accept=accepted)
        if verdict.accepted:
            response.message = f'accepted {blob.sender} for round {blob.round}'
        else:
            self.get_logger().warning(f'rejected a submission: {verdict.message}')
            response.message = verdict.message
        response.accepted = verdict.accepted
        return response


def main(args=None) -> None:
    run_fleet_node(TierCoordinator, args=args)


if __name__ == '__main__':
    main()
