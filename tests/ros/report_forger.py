"""A node outside the roster that forges the members' seed reports: usage `report_forger.py OUT ROUNDS`.

On every round plan it publishes, for each member of each cluster, a `SeedReport` in that member's
name saying the coordinator's seed fits its data 10⁶ times worse (signed with a key of its own);
again every 0.2 s until the round is over, so its reports reach the server before and after the
members'. Each round's publications go to OUT as JSON lines.
"""
import sys

from mtf_grasp_interfaces.msg import SeedReport

from mtf_grasp.federated.signing import WireSeedReport, sign_seed_report
from mtf_grasp.nodes.fleet import names
from mtf_grasp.nodes.fleet.messages import seed_report_to_msg
from stranger_node import OWN_KEY, leave_the_domain, on_the_domain


def forged_reports(plan) -> list[SeedReport]:
    reports = [WireSeedReport(sender=member, coordinator=a.coordinator, round=plan.round, seed_sha256='0' * 64,
                              loss=1e6) for a in plan.assignment for member in a.members]
    return [seed_report_to_msg(r, signature=sign_seed_report(r, OWN_KEY)) for r in reports]


def main(out_path: str, rounds: int) -> None:
    node, executor, plans, statuses = on_the_domain('report_forger')
    publisher = node.create_publisher(SeedReport, names.SEED_REPORTS, names.RECEIPT_QOS)
    published = {}
    while not statuses or statuses[-1].round < rounds:
        executor.spin_once(timeout_sec=0.2)
        if not plans:
            continue
        plan = plans[-1]
        for message in forged_reports(plan):
            publisher.publish(message)
            published[plan.round] = published.get(plan.round, 0) + 1
    leave_the_domain(node, out_path, published)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
