"""tier_coordinator: a robot's top-level role. In a round that ranks its robot top-level it trains
the global model on the robot's data for `et` epochs into a seed model, serves that seed (signed
with the robot's key) to its low-level robots, aggregates (eq. 8, under the experiment's
`tier_aggregate` and `coordinator_epochs` reading) its own model and those of its members that
passed the SubmissionGuard by the tier deadline (with the config's defences: rounds.py), and submits
the signed cluster model to the server. Under `seed_then_local` it trains on from the seed while the members fine-tune. In other rounds, and in flat methods, it stays idle and loads nothing.
"""
from __future__ import annotations

import threading
import time

from mtf_grasp_interfaces.srv import FetchModel, SubmitModel
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

from mtf_grasp.errors import InputError
from mtf_grasp.federated.rounds import cluster_aggregate
from mtf_grasp.federated.admission import SubmissionGuard
from mtf_grasp.fleet import SERVER_ID
from mtf_grasp.nodes import fleet_names as names
from mtf_grasp.nodes.blob_transport import fetch_when_available, wire_blob
from mtf_grasp.nodes.fleet_context import FleetContext
from mtf_grasp.nodes.fleet_keys import roster_keys
from mtf_grasp.nodes.fleet_main import run_fleet_node
from mtf_grasp.nodes.fleet_params import RobotParams
from mtf_grasp.nodes.inbox import RoundInbox
from mtf_grasp.nodes.model_sending import send_model
from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.plan_watch import PlanWatch, reopened
from mtf_grasp.nodes.robot_training import RobotTraining
from mtf_grasp.nodes.round_report import RoundReport


class TierCoordinator(Node):
    def __init__(self, name: str = 'tier_coordinator', namespace: str | None = None):
        super().__init__(name, namespace=namespace)  # robot_group names each node it hosts
        self.params = declare_config(self, RobotParams)
        if not self.params.robot_id:
            raise InputError(f'{self.get_fully_qualified_name()}: parameter robot_id is empty')
        self.robot_id = self.params.robot_id
        self.fleet = FleetContext.load(self.params)
        self._keys = roster_keys(self.params.roster)
        # Members are robots of the fleet; the server's key only checks the global model.
        self._guard = SubmissionGuard(keys={r: k for r, k in self._keys.items() if r != SERVER_ID},
                                      spec=self.fleet.spec)
        self._report = RoundReport(self.params.report_dir, f'{self.robot_id}.coordinator')
        self._training = None  # the robot's data is loaded the first time it is top-level
        self._lock = threading.Lock()
        self._seed = None      # (round, ModelBlob) served to the members
        self._inbox = RoundInbox(round_index=0, senders=())
        self._to_server = None  # (round, blob, plan seq) last cluster model sent, for a server that restarts
        group = ReentrantCallbackGroup()
        self.plans = PlanWatch(self, robot_id=self.robot_id, rounds=self.params.rounds, callback_group=group)
        self.create_service(FetchModel, names.seed_model(self.robot_id), self._on_fetch, callback_group=group)
        self.create_service(SubmitModel, names.submit_to_coordinator(self.robot_id), self._on_submit,
                            callback_group=group)
        self._fetch_global = self.create_client(FetchModel, names.GLOBAL_MODEL, callback_group=group)
        self._submit_cluster = self.create_client(SubmitModel, names.SUBMIT_TO_SERVER, callback_group=group)

    def run(self) -> None:
        self.plans.follow(act=self._take_part, repeat=self._resend, timeout_s=self.params.round_timeout_s)
        self.get_logger().info('all rounds done')

    def _take_part(self, plan, seq: int) -> bool:
        if self.robot_id not in plan.top_level:
            return True
        return self._coordinate(plan.round_index, seq, members=plan.clusters[self.robot_id])

    def _coordinate(self, round_index: int, seq: int, *, members) -> bool:
        log = self.get_logger()
        planned = time.monotonic()
        if self._training is None:
            self._training = RobotTraining(fleet=self.fleet, robot_id=self.robot_id, report=self._report,
                                           keys=self._keys)
        blob = fetch_when_available(self._fetch_global, FetchModel.Request(requester=self.robot_id, round=round_index),
                                    timeout_s=self.params.round_timeout_s,
                                    call_timeout_s=self.params.service_timeout_s,
                                    give_up=lambda: self.plans.moved_on(seq))
        if blob is None:
            log.warning(f'round {round_index}: no global model before the fleet moved on')
            return False
        with self._lock:
            self._inbox = RoundInbox(round_index=round_index, senders=members, version=blob.version)
        global_state = self._training.receive(blob, source=SERVER_ID, round_index=round_index)
        seed = self._training.train(global_state, epochs=self.fleet.seed_epochs, round_index=round_index,
                                    role='seed')
        with self._lock:
            self._seed = (round_index, self._training.blob_of(seed, version=blob.version))
        log.info(f'round {round_index}: seed model trained for {self.fleet.seed_epochs} epochs, '
                 f'serving it to {", ".join(members) or "no members"}')
        own = seed
        if self.fleet.continuation_epochs:
            own = self._training.train(seed.state, epochs=self.fleet.continuation_epochs, round_index=round_index,
                                       role='continuation', prior_steps=seed.local_steps, purpose='continue')
        remaining = self.params.tier_deadline_s - (time.monotonic() - planned)
        if not self._inbox.wait(max(0.0, remaining)):
            log.warning(f'round {round_index}: tier deadline passed without {", ".join(self._inbox.missing())}; '
                        'aggregating the models that arrived')
        arrived = self._inbox.close()
        self._report.cluster(round_index=round_index, coordinator=self.robot_id,
                             members=[update.robot_id for update in arrived])
        events = []
        cluster = cluster_aggregate(own, arrived, base=self.fleet.base, reading=self.fleet.tier_reading,
                                    global_state=global_state, defences=self.fleet.config.defences,
                                    seed_state=self._as_members_got(seed.state), events=events)
        self._report.defences(round_index=round_index, events=events)
        if cluster is None:
            log.warning(f'round {round_index}: the norm bound refused every model of the cluster; nothing to send')
            return True
        model = self._training.blob_of(cluster, version=blob.version)
        if send_model(self._submit_cluster, model, params=self.params, logger=log,
                      what=f'round {round_index}: cluster model to the server'):
            log.info(f'round {round_index}: cluster model of {cluster.sample_count} samples submitted to the server')
        self._to_server = (round_index, model, self.plans.seq)
        return True

    def _as_members_got(self, seed_state):
        """The seed as the members decoded it: the norm bound's reference (only needed with a bound)."""
        if self.fleet.config.defences.norm_bound.bound() is None:
            return None
        encoded = self.fleet.encode(seed_state)
        return self.fleet.decode(encoded.payload, encoded)

    def _resend(self, plan, seq: int) -> None:
        """A restarted server reopened a round whose cluster model this coordinator already sent."""
        if reopened(self._to_server, plan, seq) and self.robot_id in plan.top_level:
            what = f'round {plan.round_index}: cluster model sent again to the restarted server'
            if send_model(self._submit_cluster, self._to_server[1], params=self.params, logger=self.get_logger(),
                          what=what):
                self.get_logger().info(f'{what}: accepted')

    def _on_fetch(self, request, response):
        with self._lock:
            seed = self._seed
        if seed is None or seed[0] != request.round:
            response.available = False
            response.message = f'{self.robot_id} has no seed model for round {request.round} yet'
        else:
            response.available, response.blob = True, seed[1]
            response.message = f'seed model of round {request.round}'
        return response

    def _on_submit(self, request, response):
        with self._lock:
            inbox = self._inbox
        verdict = inbox.admit(wire_blob(request.blob), guard=self._guard)
        if verdict.accepted:
            blob = request.blob
            self._report.transfer(round_index=blob.round, sender=blob.sender, receiver=self.robot_id,
                                  payload_bytes=len(blob.payload))
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
