"""fl_server: registers robot profiles, plans each round, aggregates, evaluates and checkpoints.

The round logic runs in the main thread; registration, global-model fetches and submissions are
served by a multi-threaded executor beside it. All learning is the federated core's: the node
turns messages into core objects and back.
"""
from __future__ import annotations

import threading
import time

from mtf_grasp_interfaces.msg import FleetStatus
from mtf_grasp_interfaces.msg import RoundPlan as PlanMsg
from mtf_grasp_interfaces.srv import FetchModel, RegisterRobot, SubmitModel
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.duration import Duration
from rclpy.node import Node
from std_msgs.msg import UInt64

from mtf_grasp.federated.profiles import id_order
from mtf_grasp.federated.rounds import server_aggregate
from mtf_grasp.nodes import fleet_names as names
from mtf_grasp.nodes.blob_transport import BlobHeader, make_blob
from mtf_grasp.nodes.fleet_context import FleetContext
from mtf_grasp.nodes.fleet_messages import plan_to_msg, profile_from_msg
from mtf_grasp.nodes.fleet_params import ServerParams
from mtf_grasp.nodes.inbox import RoundInbox, receive_state
from mtf_grasp.nodes.fleet_main import NodeWorkFailed, run_fleet_node
from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.round_report import SERVER, RoundReport, write_summary


class FlServer(Node):
    def __init__(self):
        super().__init__('fl_server')
        self.params = declare_config(self, ServerParams)
        self.fleet = FleetContext.load(self.params)
        self._report = RoundReport(self.params.report_dir, SERVER)
        self._lock = threading.Lock()
        self._profiles = {}
        self._everyone_registered = threading.Event()
        self._round = 0
        self._version = 0
        self._global = None          # the encoded model the current round starts from
        self._inbox = RoundInbox(round_index=0, senders=())
        self._rejected = 0
        self._last_rejection = ''
        self._last_status = {'accuracy': float('nan'), 'participants': [], 'sha256': ''}
        group = ReentrantCallbackGroup()
        self.create_service(RegisterRobot, names.REGISTER, self._on_register, callback_group=group)
        self.create_service(FetchModel, names.GLOBAL_MODEL, self._on_fetch, callback_group=group)
        self.create_service(SubmitModel, names.SUBMIT_TO_SERVER, self._on_submit, callback_group=group)
        self._plans = self.create_publisher(PlanMsg, names.ROUND_PLAN, names.LATCHED)
        self._status = self.create_publisher(FleetStatus, names.FLEET_STATUS, names.LATCHED)
        self._versions = self.create_publisher(UInt64, names.GLOBAL_VERSION, names.LATCHED)
        self.get_logger().info(f'{self.params.method} for {self.params.rounds} rounds, waiting for '
                               f'{len(self.params.robots)} robots: {", ".join(self.params.robots)}')

    # -- round logic (main thread) --------------------------------------------------------------

    def run(self) -> None:
        self.fleet.workload  # open the data and check the partition now, not after registration
        if not self._everyone_registered.wait(self.params.registration_timeout_s):
            missing = sorted(set(self.params.robots) - set(self._profiles))
            raise NodeWorkFailed(f'robots never registered within {self.params.registration_timeout_s:.0f} s: '
                                 + ', '.join(missing))
        state = self.fleet.initial_state()
        self._publish_status(accuracy=float('nan'), participants=[], sha256='')
        for round_index in range(self.params.rounds):
            started = time.perf_counter()
            plan = self._open_round(round_index, state)
            if not self._inbox.wait(self.params.round_timeout_s):
                raise NodeWorkFailed(f'round {round_index}: no model from {", ".join(self._inbox.missing())} '
                                     f'within {self.params.round_timeout_s:.0f} s')
            state = self._close_round(plan, state, started=started)
        # Robots end on the final status; leaving before they acknowledged it would strand them.
        if not self._status.wait_for_all_acked(Duration(seconds=self.params.service_timeout_s)):
            self.get_logger().warning('not every robot acknowledged the final fleet status')
        if self.params.report_dir and self.params.summary_file:
            summary = write_summary(self.params.report_dir, self.params.summary_file)
            self.get_logger().info(f'final accuracy {summary["final_accuracy"]:.3f}; summary in '
                                   f'{self.params.summary_file}')

    def _open_round(self, round_index: int, state):
        """Plan the round from the registered profiles, serve `state` as its global model, publish."""
        with self._lock:
            profiles = [self._profiles[r] for r in self.params.robots]
        plan = self.fleet.plan(profiles, round_index=round_index)
        with self._lock:
            self._round = round_index
            self._global = self.fleet.encode(state)
            self._inbox = RoundInbox(round_index=round_index, senders=plan.top_level or tuple(plan.robot_ids))
        deadline = self.get_clock().now() + Duration(seconds=self.params.round_timeout_s)
        self._plans.publish(plan_to_msg(plan, version=self._version, seed_epochs=self.fleet.seed_epochs,
                                        local_epochs=self.fleet.local_epochs, deadline=deadline.to_msg()))
        self.get_logger().info(f'round {round_index}: plan published; top-level '
                               f'{list(plan.top_level) or "none (flat)"}'
                               + ''.join(f'; {c} seeds {list(m)}' for c, m in plan.clusters.items()))
        return plan

    def _close_round(self, plan, state, *, started: float):
        """Aggregate what arrived (eq. 9), evaluate, checkpoint, publish and record the round."""
        state = server_aggregate(self._inbox.items(), base=self.fleet.base, global_state=state)
        evaluation_started = time.perf_counter()
        accuracy = self.fleet.evaluate(state)
        evaluation_s = time.perf_counter() - evaluation_started
        encoded = self.fleet.encode(state)
        self._version = plan.round_index + 1
        self.fleet.checkpoint(self.params.checkpoint_dir, state, round_index=plan.round_index,
                              sha256=encoded.sha256, accuracy=accuracy)
        participants = _participants(plan, [update.robot_id for update in self._inbox.items()])
        self._publish_status(accuracy=accuracy, participants=participants, sha256=encoded.sha256)
        duration_s = time.perf_counter() - started
        self._report.round(round=plan.round_index, method=plan.method, global_accuracy=accuracy,
                           participants=participants, duration_s=duration_s, evaluation_s=evaluation_s,
                           global_sha256=encoded.sha256, clusters={c: list(m) for c, m in plan.clusters.items()},
                           ranking=[{'robot_id': r, 'importance': i, 'dds': d, 'dqs': q}
                                    for r, i, d, q in plan.ranking])
        self.get_logger().info(f'round {plan.round_index}: global accuracy {accuracy:.3f}, {duration_s:.1f} s '
                               f'(evaluation {evaluation_s:.1f} s), model {encoded.sha256[:12]}')
        return state

    def _publish_status(self, *, accuracy: float, participants: list[str], sha256: str) -> None:
        with self._lock:
            self._last_status = {'accuracy': accuracy, 'participants': participants, 'sha256': sha256}
            status = FleetStatus(round=self._version, global_version=self._version, global_sha256=sha256,
                                 global_accuracy=accuracy, registered_ids=sorted(self._profiles),
                                 participants=participants, rejected_submissions=self._rejected,
                                 last_rejection=self._last_rejection)
        self._status.publish(status)
        self._versions.publish(UInt64(data=self._version))

    # -- services (executor threads) ------------------------------------------------------------

    def _on_register(self, request, response):
        profile = request.profile
        if profile.robot_id not in self.params.robots:
            response.accepted, response.message = False, f'{profile.robot_id!r} is not a robot of this fleet'
        elif profile.labeller != self.fleet.labeller:
            response.accepted, response.message = False, (f'labeller {profile.labeller!r}, the fleet uses '
                                                          f'{self.fleet.labeller!r}')
        else:
            with self._lock:
                self._profiles[profile.robot_id] = profile_from_msg(profile)
                if set(self._profiles) >= set(self.params.robots):
                    self._everyone_registered.set()
            response.accepted, response.message = True, f'registered {profile.robot_id}'
            self.get_logger().info(f'registered {profile.robot_id}: {profile.sample_count} samples, '
                                   f'classes {list(profile.class_histogram)}')
        return response

    def _on_fetch(self, request, response):
        with self._lock:
            current, encoded = self._round, self._global
        if encoded is None or request.round != current:
            response.available = False
            response.message = f'global model of round {request.round} not available (current round {current})'
            return response
        header = BlobHeader(sender=SERVER, architecture=self.fleet.spec.arch, round_index=current,
                            version=self._version)
        response.blob = make_blob(encoded.payload, header=header, encoding=encoded.encoding,
                                  metadata_json=encoded.metadata_json, sha256=encoded.sha256)
        response.available, response.message = True, f'global model of round {current}'
        return response

    def _receive(self, blob):
        return receive_state(blob, fleet=self.fleet, report=self._report, receiver=SERVER)

    def _on_submit(self, request, response):
        blob = request.blob
        reason = self._inbox.admit(blob, receive=self._receive)
        if reason is not None:
            with self._lock:
                self._rejected += 1
                self._last_rejection = reason
                last = self._last_status
            self.get_logger().warning(f'rejected a submission: {reason}')
            self._publish_status(**last)  # monitors see the rejection at once
        response.accepted = reason is None
        response.message = reason or f'accepted {blob.sender} for round {blob.round}'
        return response


def _participants(plan, senders: list[str]) -> list[str]:
    """Robots whose models entered the aggregation: each submitting coordinator with its members."""
    robots = set(senders)
    for coordinator in senders:
        robots.update(plan.clusters.get(coordinator, ()))
    return sorted(robots, key=id_order)


def main(args=None) -> None:
    run_fleet_node(FlServer, args=args)


if __name__ == '__main__':
    main()
