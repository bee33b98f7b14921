"""tier_coordinator: a robot's top-level role. In a round that ranks its robot top-level it trains
the global model on the robot's data for `et` epochs into a seed model, serves that seed to its
low-level robots, aggregates their fine-tuned models with its own (eq. 8) and submits the cluster
model to the server. In other rounds, and in flat methods, it stays idle and loads nothing.
"""
from __future__ import annotations

import threading

from mtf_grasp_interfaces.srv import FetchModel, SubmitModel
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

from mtf_grasp.errors import InputError
from mtf_grasp.federated.rounds import tier_aggregate
from mtf_grasp.nodes import fleet_names as names
from mtf_grasp.nodes.blob_transport import fetch_when_available, submit
from mtf_grasp.nodes.fleet_context import FleetContext
from mtf_grasp.nodes.fleet_params import RobotParams
from mtf_grasp.nodes.inbox import RoundInbox
from mtf_grasp.nodes.fleet_main import NodeWorkFailed, run_fleet_node
from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.plan_watch import PlanWatch
from mtf_grasp.nodes.robot_training import RobotTraining
from mtf_grasp.nodes.round_report import RoundReport


class TierCoordinator(Node):
    def __init__(self):
        super().__init__('tier_coordinator')
        self.params = declare_config(self, RobotParams)
        if not self.params.robot_id:
            raise InputError(f'{self.get_fully_qualified_name()}: parameter robot_id is empty')
        self.robot_id = self.params.robot_id
        self.fleet = FleetContext.load(self.params)
        self._report = RoundReport(self.params.report_dir, f'{self.robot_id}.coordinator')
        self._training = None  # the robot's data is loaded the first time it is top-level
        self._lock = threading.Lock()
        self._seed = None      # (round, ModelBlob) served to the members
        self._inbox = RoundInbox(round_index=0, senders=())
        group = ReentrantCallbackGroup()
        self.plans = PlanWatch(self, callback_group=group)
        self.create_service(FetchModel, names.seed_model(self.robot_id), self._on_fetch, callback_group=group)
        self.create_service(SubmitModel, names.submit_to_coordinator(self.robot_id), self._on_submit,
                            callback_group=group)
        self._fetch_global = self.create_client(FetchModel, names.GLOBAL_MODEL, callback_group=group)
        self._submit_cluster = self.create_client(SubmitModel, names.SUBMIT_TO_SERVER, callback_group=group)

    def run(self) -> None:
        round_index = 0
        while round_index < self.params.rounds:
            plan = self.plans.next_plan(round_index, timeout_s=self.params.round_timeout_s)
            if self.robot_id in plan.top_level:
                self._coordinate(plan.round_index, members=plan.clusters[self.robot_id])
            round_index = plan.round_index + 1
        self.plans.wait_completed(self.params.rounds, timeout_s=self.params.round_timeout_s)
        self.get_logger().info('all rounds done')

    def _coordinate(self, round_index: int, *, members) -> None:
        log = self.get_logger()
        if self._training is None:
            self._training = RobotTraining(fleet=self.fleet, robot_id=self.robot_id, report=self._report)
        with self._lock:
            self._inbox = RoundInbox(round_index=round_index, senders=members)
        blob = fetch_when_available(self._fetch_global, FetchModel.Request(requester=self.robot_id, round=round_index),
                                    timeout_s=self.params.round_timeout_s)
        global_state = self._training.receive(blob)
        seed = self._training.train(global_state, epochs=self.fleet.seed_epochs, round_index=round_index,
                                    role='seed')
        with self._lock:
            self._seed = (round_index, self._training.blob_of(seed, version=blob.version))
        log.info(f'round {round_index}: seed model trained for {self.fleet.seed_epochs} epochs, '
                 f'serving it to {", ".join(members) or "no members"}')
        if not self._inbox.wait(self.params.round_timeout_s):
            raise NodeWorkFailed(f'round {round_index}: no model from {", ".join(self._inbox.missing())} '
                                 f'within {self.params.round_timeout_s:.0f} s')
        cluster = tier_aggregate([seed, *self._inbox.items()], base=self.fleet.base, global_state=global_state)
        submit(self._submit_cluster, self._training.blob_of(cluster, version=blob.version),
               timeout_s=self.params.service_timeout_s)
        log.info(f'round {round_index}: cluster model of {cluster.sample_count} samples submitted to the server')

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
        blob = request.blob
        # Members submit only after fetching a seed, so the robot's training is set up by then.
        reason = self._inbox.admit(blob, receive=lambda b: self._training.receive(b))
        if reason is not None:
            self.get_logger().warning(f'rejected a submission: {reason}')
        response.accepted = reason is None
        response.message = reason or f'accepted {blob.sender} for round {blob.round}'
        return response


def main(args=None) -> None:
    run_fleet_node(TierCoordinator, args=args)


if __name__ == '__main__':
    main()
