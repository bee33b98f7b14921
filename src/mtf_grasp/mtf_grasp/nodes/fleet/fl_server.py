"""fl_server: registers robot profiles, plans each round, aggregates, evaluates and checkpoints.

The round logic runs in the main thread; registration, global-model fetches (for audits and
tools: robots take the round's model from the latched /fleet/round_model) and submissions are
served by a multi-threaded executor beside it. All learning is the federated core's: the node
turns messages into core objects and back.

Admission: only robots of the roster with a valid profile signature register, and only
submissions that pass the SubmissionGuard (signature, round, version, duplicate, weights,
decoding) are aggregated; refusals, the norm bound's included, are counted in /fleet/status.
Coordinators are held to account with the config's defences: members' receipts (member_receipts.py),
audits (cluster_audit.py) and members' reports on their seeds (seed_reports.py); one caught is never
top-level again. Faults: a round closes at its deadline with the models that arrived when they
reach the quorum; a coordinator that missed a deadline is left out of later plans (its members are
re-assigned); a restarted server resumes after its latest checkpoint with the same round numbers
and model hash.
"""
from __future__ import annotations

import threading
import time

from mtf_grasp_interfaces.msg import FleetStatus, ModelBlob
from mtf_grasp_interfaces.msg import RoundPlan as PlanMsg
from mtf_grasp_interfaces.srv import FetchModel, RegisterRobot, SubmitModel
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.duration import Duration
from rclpy.node import Node
from std_msgs.msg import UInt64

from mtf_grasp.errors import InputError
from mtf_grasp.federated.admission import SubmissionGuard
from mtf_grasp.federated.defences import (IMPLAUSIBLE, REFUSED, lagging_in, off_step, recorder, ruled_out,
                                          weight_ceilings)
from mtf_grasp.federated.plausibility import implausible_in_fleet
from mtf_grasp.federated.robust import RecentGlobals
from mtf_grasp.federated.rounds import server_aggregate, step_momentum
from mtf_grasp.federated.signing import WireProfile, verify_profile
from mtf_grasp.nodes.blob_transport import NOT_OPEN, BlobHeader, make_blob, wire_blob
from mtf_grasp.nodes.fleet import names
from mtf_grasp.nodes.fleet.cluster_audit import ClusterAuditor
from mtf_grasp.nodes.fleet.context import FleetContext
from mtf_grasp.nodes.fleet.inbox import RoundInbox, noted
from mtf_grasp.nodes.fleet.keys import roster_keys
from mtf_grasp.nodes.fleet.member_receipts import MemberReceipts
from mtf_grasp.nodes.fleet.messages import plan_to_msg, profile_from_msg
from mtf_grasp.nodes.fleet.params import ServerParams
from mtf_grasp.nodes.fleet.round_report import SERVER, RoundReport, planned_participants, write_summary
from mtf_grasp.nodes.fleet.seed_reports import SeedReports
from mtf_grasp.nodes.fleet.work_clock import WorkClock
from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.runtime import NodeWorkFailed, run_fleet_node


class FlServer(Node):
    def __init__(self):
        super().__init__('fl_server')
        self.params = declare_config(self, ServerParams)
        self.fleet = FleetContext.load(self.params)
        keys = roster_keys(self.params.roster)
        outsiders = [member for member in (SERVER, *self.params.robots) if member not in keys]
        if outsiders:
            raise InputError(f'parameter roster: no key for {", ".join(outsiders)}')
        self._key = keys[SERVER]
        self._robot_keys = {robot: keys[robot] for robot in self.params.robots}
        self._guard = SubmissionGuard(keys=self._robot_keys, spec=self.fleet.spec)
        self._report = RoundReport(self.params.report_dir, SERVER)
        self._lock = threading.Lock()
        self._profiles = {}
        self._sidelined = set()      # robots whose coordinator missed a round's deadline
        self._flagged = set()        # robots defences.ruled_out or claims caught: never top-level again
        self._lagging = frozenset()  # coordinators whose clusters the last round's step check found lagging
        self._everyone_registered = threading.Event()
        self._started = time.perf_counter()  # registration time: from here until every robot is known
        self._round = 0
        self._version = 0
        self._global = None          # the signed ModelBlob of the model the current round starts from
        self._inbox = None           # None until a round is open (a restarted server is not yet)
        self._work = WorkClock()  # the round's own work: serving its model, aggregating, publishing the next
        self._last_status = {'accuracy': float('nan'), 'participants': [], 'sha256': ''}
        group = ReentrantCallbackGroup()
        self._auditor = ClusterAuditor(self, fleet=self.fleet, keys=self._robot_keys, report=self._report,
                                       callback_group=group)
        defences = self.fleet.config.defences
        self._receipts = (MemberReceipts(self, keys=self._robot_keys, callback_group=group)
                          if defences.check_members or defences.check_claims else None)
        self._seed_reports = (SeedReports(self, keys=self._robot_keys, callback_group=group)
                              if defences.seed_ratio is not None else None)
        # The fleet's last step, as the robots decode the global models: the step check's, and the
        # audits' for the direction check's pair tie-breaker.
        self._globals = (RecentGlobals() if defences.step_ratio is not None
                         or (defences.audit_rate > 0 and defences.direction_z is not None) else None)
        for kind, name, callback in ((RegisterRobot, names.REGISTER, self._on_register),
                                     (FetchModel, names.GLOBAL_MODEL, self._on_fetch),
                                     (SubmitModel, names.SUBMIT_TO_SERVER, self._on_submit)):
            self.create_service(kind, name, callback, qos_profile=names.SERVICE_QOS, callback_group=group)
        self._plans = self.create_publisher(PlanMsg, names.ROUND_PLAN, names.LATCHED)
        self._status = self.create_publisher(FleetStatus, names.FLEET_STATUS, names.LATCHED)
        self._versions = self.create_publisher(UInt64, names.GLOBAL_VERSION, names.LATCHED)
        self._models = self.create_publisher(ModelBlob, names.GLOBAL_MODEL_LATEST, names.LATCHED)
        self._round_model = self.create_publisher(ModelBlob, names.ROUND_MODEL, names.LATCHED)  # for the robots
        self.get_logger().info(f'{self.params.method} for {self.params.rounds} rounds'
                               + (', folding models as they arrive' if self.fleet.streaming else '')
                               + f', waiting for {len(self.params.robots)} robots: {", ".join(self.params.robots)}')

    # -- round logic (main thread) --------------------------------------------------------------

    def run(self) -> None:
        self.fleet.workload  # open the data and check the partition now, not after registration
        first_round, state, sha256 = self.fleet.resume_point(self.params.checkpoint_dir)
        if first_round:
            self.get_logger().info(f'resuming at round {first_round} from the checkpoint of round '
                                   f'{first_round - 1}, model {sha256[:12]}')
            previous = self.fleet.previous_global(self.params.checkpoint_dir)
            if previous is not None:
                self._remember(first_round - 1, self.fleet.encode(previous))
        with self._lock:
            self._version = first_round
            self._last_status['sha256'] = sha256
        self._publish_status(**self._last_status)  # robots see who is registered (nobody yet)
        if not self._everyone_registered.wait(self.params.registration_timeout_s):
            missing = sorted(set(self.params.robots) - set(self._profiles))
            raise NodeWorkFailed(f'robots never registered within {self.params.registration_timeout_s:.0f} s: '
                                 + ', '.join(missing))
        self._report.registration(seconds=time.perf_counter() - self._started, robots=len(self.params.robots))
        for round_index in range(first_round, self.params.rounds):
            started = (time.perf_counter(), time.time())   # the wall clock too, for the round's timeline
            plan = self._open_round(round_index, state)
            arrived = self._collect(plan)
            state, sha256 = self._close_round(plan, state, arrived, previous_sha256=sha256, started=started)
        # Robots end on the final status; leaving before they acknowledged it would strand them.
        if not self._status.wait_for_all_acked(Duration(seconds=self.params.service_timeout_s)):
            self.get_logger().warning('not every robot acknowledged the final fleet status')
        # ... and so would a grasp_inference node still waiting for the final global model.
        if not self._models.wait_for_all_acked(Duration(seconds=self.params.service_timeout_s)):
            self.get_logger().warning('not every subscriber acknowledged the final global model')
        if self.params.report_dir and self.params.summary_file:
            summary = write_summary(self.params.report_dir, self.params.summary_file,
                                    attacks=self.fleet.adversary.attacks)
            self.get_logger().info(f'final accuracy {summary["final_accuracy"]:.3f}; summary in '
                                   f'{self.params.summary_file}')

    def _open_round(self, round_index: int, state):
        """Plan the round from the registered profiles, serve `state` as its global model, publish."""
        with self._lock:
            profiles = [self._profiles[r] for r in self.params.robots if r not in self._sidelined]
        plan = self.fleet.plan(profiles, round_index=round_index, ineligible=frozenset(self._flagged))
        self._work = WorkClock()
        with self._work.timing():   # the global model encoded, signed, published
            encoded = self.fleet.encode(state)
            header = BlobHeader(sender=SERVER, architecture=self.fleet.spec.arch, round_index=round_index,
                                version=self._version)
            with self._lock:
                self._round = round_index
                self._global = make_blob(encoded.payload, header=header, encoding=encoded.encoding,
                                         metadata_json=encoded.metadata_json, sha256=encoded.sha256, key=self._key)
                self._inbox = RoundInbox(round_index=round_index, senders=plan.top_level or tuple(plan.robot_ids),
                                         version=self._version)
            self._round_model.publish(self._global)   # before the plan: a robot acting on it finds its model
        self._remember(round_index, encoded)
        deadline = self.get_clock().now() + Duration(seconds=self.params.round_deadline_s)
        self._plans.publish(plan_to_msg(plan, version=self._version, seed_epochs=self.fleet.seed_epochs,
                                        local_epochs=self.fleet.local_epochs, deadline=deadline.to_msg()))
        self.get_logger().info(f'round {round_index}: plan published; top-level '
                               f'{list(plan.top_level) or "none (flat)"}'
                               + ''.join(f'; {c} seeds {list(m)}' for c, m in plan.clusters.items()))
        return plan

    def _collect(self, plan):
        """The round's models: all expected ones, or at the deadline those that arrived if they
        reach the quorum (waiting on for it until the round timeout, then failing). Ordered: a list,
        once the round is closed; streaming: each as it is admitted (inbox.py)."""
        inbox = self._inbox
        needed = inbox.quorum(self.params.quorum)

        def short_of_quorum() -> NodeWorkFailed:
            return NodeWorkFailed(f'round {plan.round_index}: fewer than the quorum of {needed} models within '
                                  f'{self.params.round_timeout_s:.0f} s; missing ' + ', '.join(inbox.missing()))

        if self.fleet.streaming:
            timeout_at = time.monotonic() + self.params.round_timeout_s

            def enough(count: int) -> bool:
                if count < needed and time.monotonic() >= timeout_at:
                    raise short_of_quorum()
                return count >= needed

            return inbox.stream(deadline=time.monotonic() + self.params.round_deadline_s, enough=enough,
                                clock=self._work)
        if not inbox.wait(self.params.round_deadline_s):
            late = max(0.0, self.params.round_timeout_s - self.params.round_deadline_s)
            if not inbox.wait(late, count=needed):
                raise short_of_quorum()
        arrived = inbox.close()
        self._note_missing(plan)
        return arrived

    def _remember(self, round_index: int, encoded) -> None:
        """Keep the global model `round_index` starts from (`encoded` as served) as the robots decode it,
        and the one before."""
        if self._globals is not None:
            self._globals.keep(round_index, self.fleet.decode(encoded.payload, encoded))

    def _off_step_left_out(self, plan, arrived: list, state, last_step, *, record) -> list:
        """`arrived` without the cluster models the step check refuses, each refusal logged."""
        refused = off_step(arrived, defences=self.fleet.config.defences, reference=state, last_step=last_step,
                           lagged=self._lagging, record=record)
        for coordinator in sorted(refused):
            self.get_logger().warning(f"round {plan.round_index}: {coordinator}'s cluster model follows the fleet's "
                                      "last step far less than the other clusters'; it is left out and "
                                      'it is not top-level again')
        return [u for u in arrived if u.robot_id not in refused]

    def _note_missing(self, plan) -> None:
        missing = self._inbox.missing()
        if missing:
            self.get_logger().warning(f'round {plan.round_index}: closed at the deadline without '
                                      f'{", ".join(missing)}')
            if plan.top_level:  # a coordinator that failed would fail its members again
                with self._lock:
                    self._sidelined.update(missing)
                self.get_logger().warning(f'{", ".join(missing)} left out of later rounds; '
                                          'their members are re-assigned')

    def _close_round(self, plan, state, arrived, *, previous_sha256: str, started: tuple[float, float]):
        """Aggregate what arrived (eq. 9), evaluate, checkpoint, publish and record the round."""
        events = []
        record = recorder(events, tier='server', by=SERVER)
        defences = self.fleet.config.defences
        flagged = frozenset(self._flagged)   # before this round's catches, as the experiment judges claims
        work = self._work   # aggregating, encoding, signing, checkpointing, publishing
        taken = []   # streaming: the models folded (without weights), known once the stream ends
        if self.fleet.streaming:   # folded as they arrive (no audits: fleet.streaming_conflict)
            updates = noted(arrived, taken)
        else:
            steps = self._signed_steps(plan, arrived, record=record)
            last_step = self._globals.step_into(plan.round_index) if self._globals is not None else None
            if plan.tiered and self._auditor.rate > 0:
                arrived = self._auditor.audit(plan, arrived, global_state=state, last_step=last_step,
                                              version=self._version, record=record)
            if plan.tiered and self._seed_reports is not None:
                arrived = self._seed_reports.judge(plan, arrived, defences=defences, record=record)
            if plan.tiered and defences.step_ratio is not None:
                arrived = self._off_step_left_out(plan, arrived, state, last_step, record=record)
            updates = arrived
        with work.timing():
            state = server_aggregate(updates, base=self.fleet.base, global_state=state, defences=defences,
                                     ceilings=weight_ceilings(plan), events=events)
        if self.fleet.streaming:
            self._note_missing(plan)
            arrived = taken
            steps = self._signed_steps(plan, arrived, record=record)
        self._flagged |= ruled_out(events, top_level=plan.top_level)
        self._lagging = lagging_in(events)
        if defences.check_claims:
            self._judge_claims(plan, steps, record=record, flagged=flagged)
        self._report.defences(round_index=plan.round_index, events=events)
        refusals = [e for e in events if e.reason in REFUSED]
        refused = {e.robot_id for e in refusals}
        with self._lock:   # counted in /fleet/status with the admission's refusals
            for event in refusals:
                self._guard.count_refusal(sender=event.robot_id, round_id=plan.round_index, reason=event.reason,
                                          detail=event.detail())
        evaluation_started = time.perf_counter()
        accuracy = self.fleet.evaluate(state)
        evaluation_s = time.perf_counter() - evaluation_started
        with work.timing():
            encoded = self.fleet.encode(state)
            sha256 = encoded.sha256
            self.fleet.checkpoint(self.params.checkpoint_dir, state, round_index=plan.round_index, sha256=sha256,
                                  previous_sha256=previous_sha256, accuracy=accuracy)
            with self._lock:
                self._version = plan.round_index + 1
            # Grasp-serving nodes swap this in live (they check sha256 and tensors, never unpickle).
            header = BlobHeader(sender=SERVER, architecture=self.fleet.spec.arch, round_index=plan.round_index + 1,
                                version=plan.round_index + 1)
            self._models.publish(make_blob(encoded.payload, header=header, encoding=encoded.encoding,
                                           metadata_json=encoded.metadata_json, sha256=sha256, key=self._key))
        work += self._inbox.work
        submitted = [update.robot_id for update in arrived if update.robot_id not in refused]
        participants = planned_participants(submitted, clusters=plan.clusters)
        self._publish_status(accuracy=accuracy, participants=participants, sha256=sha256)
        duration_s = time.perf_counter() - started[0]
        ended_at = time.time()   # after the reading, as round_timeline's other stamps
        self._report.round(round=plan.round_index, method=plan.method, global_accuracy=accuracy,
                           participants=participants, submitted=submitted, duration_s=duration_s,
                           started_at=started[1], ended_at=ended_at,
                           evaluation_s=evaluation_s, server_work_s=work.wall_s, server_work_cpu_s=work.cpu_s,
                           global_sha256=sha256, previous_sha256=previous_sha256,
                           server_peak_rss_mb=peak_rss_mb(),
                           clusters={c: list(m) for c, m in plan.clusters.items()},
                           ranking=[{'robot_id': r, 'importance': i, 'dds': d, 'dqs': q}
                                    for r, i, d, q in plan.ranking])
        # Committed once the round is recorded: a server killed in between plays the round again,
        # and its summary keeps the round's last record (round_report.summarize).
        self.fleet.commit_checkpoint(self.params.checkpoint_dir)
        self.get_logger().info(f'round {plan.round_index}: global accuracy {accuracy:.3f}, {duration_s:.1f} s '
                               f'(evaluation {evaluation_s:.1f} s), model {sha256[:12]}')
        return state, sha256

    def _signed_steps(self, plan, arrived, *, record) -> dict[str, float]:
        """The step counts behind the round's models: in flat rounds the robots' own signed blobs, in
        tiered ones the members' receipts (which also show a coordinator that left a member out)."""
        if not plan.tiered:
            return {u.robot_id: u.local_steps for u in arrived}
        if self._receipts is None:
            return {}
        return self._receipts.close_round(plan, arrived, record=record,
                                          check_members=self.fleet.config.defences.check_members)

    def _judge_claims(self, plan, steps: dict[str, float], *, record, flagged: frozenset[str]) -> None:
        """`implausible_profile` for each robot whose signed step counts cannot cover the count it
        registered (as the experiment records it, after the round's other decisions); it is
        never top-level again."""
        with self._lock:
            profiles = {p.robot_id: p for p in self._profiles.values()}
        caught = implausible_in_fleet(list(profiles.values()), plan, steps, seed_epochs=self.fleet.seed_epochs,
                                      local_epochs=self.fleet.local_epochs,
                                      batch_size=self.fleet.settings.batch_size,
                                      momentum=step_momentum(self.fleet.settings))
        for robot in sorted(set(caught) - flagged):
            record(reason=IMPLAUSIBLE, robot_id=robot)
            self.get_logger().warning(f'round {plan.round_index}: {robot} trained too few steps for the '
                                      f'{profiles[robot].sample_count} samples it registered; '
                                      'it is not top-level again')
            self._flagged.add(robot)

    def _publish_status(self, *, accuracy: float, participants: list[str], sha256: str) -> None:
        with self._lock:
            self._last_status = {'accuracy': accuracy, 'participants': participants, 'sha256': sha256}
            status = FleetStatus(round=self._version, global_version=self._version, global_sha256=sha256,
                                 global_accuracy=accuracy, registered_ids=sorted(self._profiles),
                                 participants=participants, rejected_submissions=self._guard.rejected_total,
                                 last_rejection=self._guard.last_rejection)
        self._status.publish(status)
        self._versions.publish(UInt64(data=status.global_version))

    # -- services (executor threads) ------------------------------------------------------------

    def _on_register(self, request, response):
        profile = request.profile
        response.accepted, response.message = False, self._registration_refusal(profile, request.signature)
        if response.message:
            self.get_logger().warning(f'refused a registration: {response.message}')
            return response
        with self._lock:
            self._profiles[profile.robot_id] = profile_from_msg(profile)
            if set(self._profiles) >= set(self.params.robots):
                self._everyone_registered.set()
            last = dict(self._last_status)
        self._publish_status(**last)  # the robot sees itself registered
        response.accepted, response.message = True, f'registered {profile.robot_id}'
        self.get_logger().info(f'registered {profile.robot_id}: {profile.sample_count} samples, '
                               f'classes {list(profile.class_histogram)}')
        return response

    def _registration_refusal(self, profile, signature: str) -> str:
        if profile.robot_id not in self.params.robots:
            return f'{profile.robot_id!r} is not a robot of this fleet'
        wire = WireProfile(robot_id=profile.robot_id, sample_count=profile.sample_count,
                           class_histogram=tuple(profile.class_histogram), labeller=profile.labeller)
        if not verify_profile(wire, signature, self._robot_keys[profile.robot_id]):
            return f'{profile.robot_id!r}: profile signature does not match its key (forged or altered)'
        if profile.labeller != self.fleet.labeller:
            return f'labeller {profile.labeller!r}, the fleet uses {self.fleet.labeller!r}'
        return ''

    def _on_fetch(self, request, response):
        with self._lock:
            current, blob = self._round, self._global
        if blob is None or request.round != current:
            response.available = False
            response.message = f'global model of round {request.round} not available (current round {current})'
            return response
        response.blob = blob
        response.available, response.message = True, f'global model of round {current}'
        return response

    def _on_submit(self, request, response):
        with self._lock:
            inbox = self._inbox
        if inbox is None:
            response.accepted = False
            response.message = f'{NOT_OPEN}: the server waits for every robot to register'
            return response
        blob = request.blob

        def accepted():   # known before the model can close the round: the receipts and the record
            if self._receipts is not None:
                self._receipts.forwarded(round_index=blob.round, coordinator=blob.sender, receipts=request.receipts)
            self._report.transfer(round_index=blob.round, sender=blob.sender, receiver=SERVER,
                                  payload_bytes=len(blob.payload))

        verdict = inbox.admit(wire_blob(blob), guard=self._guard, on_accept=accepted)
        response.accepted = verdict.accepted
        if verdict.accepted:
            response.message = f'accepted {blob.sender} for round {blob.round}'
        else:
            response.message = verdict.message
            self.get_logger().warning(f'rejected a submission: {verdict.message}')
            with self._lock:
                last = dict(self._last_status)
            self._publish_status(**last)  # monitors see the rejection at once
        return response


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux: ru_maxrss is in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(args=None) -> None:
    run_fleet_node(FlServer, args=args)


if __name__ == '__main__':
    main()
