"""fl_client: one robot's learner. Registers its signed data profile, then each round fine-tunes
the model it is given (its coordinator's seed, or the global model in flat methods), signs it
with the robot's key and submits it.

On a top-level robot the robot's tier_coordinator trains instead, so the client sits that round
out; so does a robot the plan leaves out. It re-registers whenever the server's status does not
list it (a restarted server), retries service calls with backoff, and gives up on a round's model
once the fleet has moved past that round. What its coordinator accepted it serves for an audit of
that coordinator and, with check_members, reports to the server as a signed receipt; with
seed_ratio, it scores each seed it receives on its own data and reports that loss, signed, for the
server's seed check.
"""
from __future__ import annotations

import math

from mtf_grasp_interfaces.msg import ModelBlob, SeedReport
from mtf_grasp_interfaces.srv import RegisterRobot, SubmitModel
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

from mtf_grasp.federated.signing import WireProfile, WireSeedReport, sign_profile, sign_seed_report
from mtf_grasp.fleet import SERVER_ID
from mtf_grasp.nodes.blob_transport import call_service, receipt_msg, with_retries
from mtf_grasp.nodes.fleet import names
from mtf_grasp.nodes.fleet.context import FleetContext
from mtf_grasp.nodes.fleet.injected_crash import InjectedCrash
from mtf_grasp.nodes.fleet.keys import roster_keys
from mtf_grasp.nodes.fleet.messages import profile_to_msg, seed_report_to_msg
from mtf_grasp.nodes.fleet.model_watch import ModelWatch
from mtf_grasp.nodes.fleet.model_sending import send_model
from mtf_grasp.nodes.fleet.params import declare_robot
from mtf_grasp.nodes.fleet.plan_watch import PlanWatch, reopened
from mtf_grasp.nodes.fleet.robot_training import RobotTraining
from mtf_grasp.nodes.fleet.round_models import RoundModelService
from mtf_grasp.nodes.fleet.round_report import RoundReport
from mtf_grasp.nodes.runtime import NodeWorkFailed, run_fleet_node


class FlClient(Node):
    def __init__(self, name: str = 'fl_client', namespace: str | None = None):
        super().__init__(name, namespace=namespace)  # robot_group names each node it hosts
        self.params = declare_robot(self)
        self.fleet = FleetContext.load(self.params)
        self.robot_id = self.params.robot_id
        self.training = RobotTraining(fleet=self.fleet, robot_id=self.robot_id, keys=roster_keys(self.params.roster),
                                      report=RoundReport(self.params.report_dir, f'{self.robot_id}.client'))
        self._group = ReentrantCallbackGroup()
        self._crash = InjectedCrash(crashes=self.params.crashes, robot_id=self.robot_id, node_name=self.get_name(),
                                    report_dir=self.params.report_dir)
        self.plans = PlanWatch(self, robot_id=self.robot_id, rounds=self.params.rounds, callback_group=self._group)
        self._register = self.create_client(RegisterRobot, names.REGISTER, qos_profile=names.SERVICE_QOS,
                                            callback_group=self._group)
        self._submit = {}      # coordinator id ('' for the server) -> SubmitModel client
        self._models = ModelWatch(self, requester=self.robot_id, check=self.training.check, callback_group=self._group,
                                  ask_every_s=self.params.service_timeout_s)
        self._to_server = None  # (round, blob, plan seq) last sent to the server, for a server that restarts
        # What this robot's coordinator accepted, for an audit of that coordinator by the server.
        self._sent = RoundModelService(self, names.sent_model(self.robot_id), what='model sent to a coordinator',
                                       callback_group=self._group)
        # ... and its receipt to the server, to hold the coordinator (check_members) and itself
        # (check_claims: the steps it signed) to it.
        defences = self.fleet.config.defences
        self._receipts = (self.create_publisher(ModelBlob, names.RECEIPTS, names.RECEIPT_QOS)
                          if defences.check_members or defences.check_claims else None)
        self._seed_reports = (self.create_publisher(SeedReport, names.SEED_REPORTS, names.RECEIPT_QOS)
                              if defences.seed_ratio is not None else None)
        self.get_logger().info(f'{self.robot_id}: {len(self.training.indices)} samples from '
                               f'{self.fleet.data_root}')

    def run(self) -> None:
        self._register_profile()
        self.plans.follow(act=self._take_part, repeat=self._resend, register=self._register_profile,
                          timeout_s=self.params.round_timeout_s)
        self.get_logger().info('all rounds done')

    def _register_profile(self) -> None:
        # An inflated_profile attack (from round 0: robots register once) claims more than it holds.
        profile = self.fleet.adversary.profiles([self.training.profile], 0)[0]
        labeller = self.fleet.labeller
        signature = sign_profile(WireProfile(robot_id=profile.robot_id, sample_count=profile.sample_count,
                                             class_histogram=tuple(profile.class_histogram), labeller=labeller),
                                 self.training.keys[self.robot_id])
        request = RegisterRobot.Request(profile=profile_to_msg(profile, labeller=labeller), signature=signature)
        response = with_retries(lambda: call_service(self._register, request, timeout_s=self.params.service_timeout_s,
                                                      effect=self.plans.registered),
                                retries=self.params.retries, backoff_s=self.params.retry_backoff_s,
                                log=self.get_logger().warning, what='registration')
        if response is None:
            self.get_logger().info(f'registered {self.robot_id} (listed in {names.FLEET_STATUS} '
                                   'before the answer came)')
            return
        if not response.accepted:
            raise NodeWorkFailed(f'registration refused: {response.message}')
        self.get_logger().info(response.message)

    def _take_part(self, plan, seq: int) -> bool:
        if self._crash.missed(plan.round_index, self.get_logger().warning):
            return True
        if self.robot_id in plan.top_level:
            self.get_logger().info(f'round {plan.round_index}: top-level, the tier coordinator trains')
        elif self.robot_id not in plan.robot_ids:
            self.get_logger().info(f'round {plan.round_index}: not in the plan, sitting it out')
        else:
            return self._fine_tune(plan.round_index, seq, coordinator=plan.coordinator_of(self.robot_id) or '')
        return True

    def _fine_tune(self, round_index: int, seq: int, *, coordinator: str) -> bool:
        source = coordinator or SERVER_ID
        topic, service = ((names.seed_topic(coordinator), names.seed_model(coordinator)) if coordinator
                          else (names.ROUND_MODEL, names.GLOBAL_MODEL))
        received = self._models.wait(source, topic, service, round_index, timeout_s=self.params.round_timeout_s,
                                     give_up=lambda: self.plans.moved_on(seq, registration=True))
        if received is None:
            self.get_logger().warning(f'round {round_index}: no model from {source} before the fleet moved on '
                                      'or the server restarted')
            return False
        blob, start = received
        self.training.record_received(blob)
        if coordinator and self._seed_reports is not None:   # before fine-tuning: the server has it early
            self._report_seed(blob, start, coordinator=coordinator)
        # A seed model already carries its coordinator's steps (FedNova counts from the global model).
        update = self.training.train(start, epochs=self.fleet.local_epochs, round_index=round_index,
                                     role='fine_tune' if coordinator else 'local',
                                     prior_steps=blob.local_steps if coordinator else 0.0)
        model = self.training.blob_of(update, version=blob.version)
        if coordinator:   # kept before sending: the coordinator's cluster, then an audit, can follow at once
            self._sent.keep(round_index, model)
        if send_model(self._submit_to(coordinator), model, params=self.params, logger=self.get_logger(),
                      what=f'round {round_index}: model to {source}'):
            self.get_logger().info(f'round {round_index}: fine-tuned the model from {source} for '
                                   f'{self.fleet.local_epochs} epochs and submitted it')
            if coordinator and self._receipts is not None:
                self._receipts.publish(receipt_msg(model))
        elif coordinator:  # refused or lost: not a model the coordinator had to count
            self._sent.keep(round_index, None)
        if not coordinator:
            self._to_server = (round_index, model, self.plans.seq)
        return True

    def _report_seed(self, blob, seed_state, *, coordinator: str) -> None:
        loss = self.training.seed_loss(seed_state, round_index=blob.round)
        report = WireSeedReport(sender=self.robot_id, coordinator=coordinator, round=blob.round,
                                seed_sha256=blob.sha256, loss=loss if math.isfinite(loss) else math.inf)
        signature = sign_seed_report(report, self.training.keys[self.robot_id])
        self._seed_reports.publish(seed_report_to_msg(report, signature=signature))

    def _resend(self, plan, seq: int) -> None:
        """A restarted server reopened a round this robot already sent its model for (flat)."""
        if reopened(self._to_server, plan, seq):
            what = f'round {plan.round_index}: model sent again to the restarted server'
            if send_model(self._submit_to(''), self._to_server[1], params=self.params, logger=self.get_logger(),
                          what=what):
                self.get_logger().info(f'{what}: accepted')

    def _submit_to(self, coordinator: str):
        """The SubmitModel client of `coordinator` ('' for the server)."""
        if coordinator not in self._submit:
            self._submit[coordinator] = self.create_client(
                SubmitModel, names.submit_to_coordinator(coordinator) if coordinator else names.SUBMIT_TO_SERVER,
                qos_profile=names.SERVICE_QOS, callback_group=self._group)
        return self._submit[coordinator]


def main(args=None) -> None:
    run_fleet_node(FlClient, args=args)


if __name__ == '__main__':
    main()
