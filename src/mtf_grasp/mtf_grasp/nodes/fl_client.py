"""fl_client: one robot's learner. Registers its data profile, then each round fine-tunes the
model it is given (its coordinator's seed, or the global model in flat methods) and submits it.

On a top-level robot the robot's tier_coordinator trains instead, so the client sits that round out.
"""
from __future__ import annotations

from mtf_grasp_interfaces.srv import FetchModel, RegisterRobot, SubmitModel
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

from mtf_grasp.errors import InputError
from mtf_grasp.nodes import fleet_names as names
from mtf_grasp.nodes.blob_transport import call_service, fetch_when_available, submit
from mtf_grasp.nodes.fleet_context import FleetContext
from mtf_grasp.nodes.fleet_messages import profile_to_msg
from mtf_grasp.nodes.fleet_params import RobotParams
from mtf_grasp.nodes.fleet_main import NodeWorkFailed, run_fleet_node
from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.plan_watch import PlanWatch
from mtf_grasp.nodes.robot_training import RobotTraining
from mtf_grasp.nodes.round_report import RoundReport


class FlClient(Node):
    def __init__(self):
        super().__init__('fl_client')
        self.params = declare_config(self, RobotParams)
        if not self.params.robot_id:
            raise InputError(f'{self.get_fully_qualified_name()}: parameter robot_id is empty')
        self.fleet = FleetContext.load(self.params)
        self.robot_id = self.params.robot_id
        self.training = RobotTraining(fleet=self.fleet, robot_id=self.robot_id,
                                      report=RoundReport(self.params.report_dir, f'{self.robot_id}.client'))
        self._group = ReentrantCallbackGroup()
        self.plans = PlanWatch(self, callback_group=self._group)
        self._register = self.create_client(RegisterRobot, names.REGISTER, callback_group=self._group)
        self._upstream = {}  # coordinator id ('' for the server) -> (fetch client, submit client)
        self.get_logger().info(f'{self.robot_id}: {len(self.training.indices)} samples from '
                               f'{self.fleet.data_root}')

    def run(self) -> None:
        timeout = self.params.service_timeout_s
        response = call_service(self._register, RegisterRobot.Request(
            profile=profile_to_msg(self.training.profile, labeller=self.fleet.labeller)), timeout_s=timeout)
        if not response.accepted:
            raise NodeWorkFailed(f'registration refused: {response.message}')
        round_index = 0
        while round_index < self.params.rounds:
            plan = self.plans.next_plan(round_index, timeout_s=self.params.round_timeout_s)
            if self.robot_id in plan.top_level:
                self.get_logger().info(f'round {plan.round_index}: top-level, the tier coordinator trains')
            else:
                self._fine_tune(plan.round_index, coordinator=plan.coordinator_of(self.robot_id) or '')
            round_index = plan.round_index + 1
        self.plans.wait_completed(self.params.rounds, timeout_s=self.params.round_timeout_s)
        self.get_logger().info('all rounds done')

    def _fine_tune(self, round_index: int, *, coordinator: str) -> None:
        fetch, push = self._upstream_of(coordinator)
        source = coordinator or 'the server'
        blob = fetch_when_available(fetch, FetchModel.Request(requester=self.robot_id, round=round_index),
                                    timeout_s=self.params.round_timeout_s)
        start = self.training.receive(blob)
        # A seed model already carries its coordinator's steps (FedNova counts from the global model).
        update = self.training.train(start, epochs=self.fleet.local_epochs, round_index=round_index,
                                     role='fine_tune' if coordinator else 'local',
                                     prior_steps=blob.local_steps if coordinator else 0.0)
        submit(push, self.training.blob_of(update, version=blob.version), timeout_s=self.params.service_timeout_s)
        self.get_logger().info(f'round {round_index}: fine-tuned the model from {source} for '
                               f'{self.fleet.local_epochs} epochs and submitted it')

    def _upstream_of(self, coordinator: str):
        if coordinator not in self._upstream:
            fetch_name, submit_name = ((names.seed_model(coordinator), names.submit_to_coordinator(coordinator))
                                       if coordinator else (names.GLOBAL_MODEL, names.SUBMIT_TO_SERVER))
            self._upstream[coordinator] = (
                self.create_client(FetchModel, fetch_name, callback_group=self._group),
                self.create_client(SubmitModel, submit_name, callback_group=self._group))
        return self._upstream[coordinator]


def main(args=None) -> None:
    run_fleet_node(FlClient, args=args)


if __name__ == '__main__':
    main()
