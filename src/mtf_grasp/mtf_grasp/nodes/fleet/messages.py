"""Conversions between the core's plan/profile/seed-report types and their ROS messages."""
from __future__ import annotations

from builtin_interfaces.msg import Time
from mtf_grasp_interfaces.msg import RobotProfile as ProfileMsg
from mtf_grasp_interfaces.msg import RoundPlan as PlanMsg
from mtf_grasp_interfaces.msg import SeedReport
from mtf_grasp_interfaces.msg import TierAssignment

from mtf_grasp.federated.planning import RoundPlan
from mtf_grasp.federated.profiles import RobotProfile
from mtf_grasp.federated.signing import WireSeedReport


def plan_to_msg(plan: RoundPlan, *, version: int, seed_epochs: int, local_epochs: int,
                deadline: Time) -> PlanMsg:
    return PlanMsg(round=plan.round_index, global_version=version, method=plan.method,
                   top_level_ids=list(plan.top_level),
                   assignment=[TierAssignment(coordinator=c, members=list(m)) for c, m in plan.clusters.items()],
                   ranked_ids=[entry[0] for entry in plan.ranking],
                   importance_scores=[entry[1] for entry in plan.ranking],
                   registered_samples=[plan.registered.get(entry[0], 0) for entry in plan.ranking],
                   seed_epochs=seed_epochs, local_epochs=local_epochs, deadline=deadline)


def plan_from_msg(msg: PlanMsg) -> RoundPlan:
    """The plan a robot acts on (DDS/DQS are not sent: robots only need roles, order and the counts
    that cap each member's weight; a count of 0 means none, and caps nothing)."""
    ranking = tuple((rid, score, float('nan'), float('nan'))
                    for rid, score in zip(msg.ranked_ids, msg.importance_scores))
    return RoundPlan(round_index=msg.round, method=msg.method, ranking=ranking,
                     top_level=tuple(msg.top_level_ids),
                     clusters={a.coordinator: tuple(a.members) for a in msg.assignment},
                     registered={rid: n for rid, n in zip(msg.ranked_ids, msg.registered_samples) if n > 0})


def profile_to_msg(profile: RobotProfile, *, labeller: str) -> ProfileMsg:
    return ProfileMsg(robot_id=profile.robot_id, sample_count=profile.sample_count,
                      class_histogram=list(profile.class_histogram), labeller=labeller)


def profile_from_msg(msg: ProfileMsg) -> RobotProfile:
    return RobotProfile(robot_id=msg.robot_id, sample_count=msg.sample_count,
                        class_histogram=tuple(msg.class_histogram))


def seed_report_to_msg(report: WireSeedReport, *, signature: str) -> SeedReport:
    return SeedReport(sender=report.sender, coordinator=report.coordinator, round=report.round,
                      seed_sha256=report.seed_sha256, loss=report.loss, signature=signature)


def seed_report_from_msg(msg: SeedReport) -> WireSeedReport:
    return WireSeedReport(sender=msg.sender, coordinator=msg.coordinator, round=msg.round,
                          seed_sha256=msg.seed_sha256, loss=msg.loss)
