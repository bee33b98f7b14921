"""A robot's view of the server: the latest round plan and fleet status, and waits on them."""
from __future__ import annotations

import threading

from mtf_grasp_interfaces.msg import FleetStatus
from mtf_grasp_interfaces.msg import RoundPlan as PlanMsg

from mtf_grasp.nodes import fleet_names as names
from mtf_grasp.nodes.fleet_messages import plan_from_msg


class PlanWatch:
    """Subscribes to the latched plan and status topics of `node`."""

    def __init__(self, node, *, callback_group=None):
        self._changed = threading.Condition()
        self._plan = None
        self._completed_rounds = 0
        node.create_subscription(PlanMsg, names.ROUND_PLAN, self._on_plan, names.LATCHED,
                                 callback_group=callback_group)
        node.create_subscription(FleetStatus, names.FLEET_STATUS, self._on_status, names.LATCHED,
                                 callback_group=callback_group)

    def _on_plan(self, msg: PlanMsg) -> None:
        with self._changed:
            self._plan = msg
            self._changed.notify_all()

    def _on_status(self, msg: FleetStatus) -> None:
        with self._changed:
            self._completed_rounds = max(self._completed_rounds, msg.round)
            self._changed.notify_all()

    def next_plan(self, round_index: int, *, timeout_s: float):
        """The core RoundPlan of `round_index` or of a later round, once the server published it.

        Only the latest plan is kept; when this robot sat a round out (its client while its
        coordinator trained), the server may already be further on. It cannot have passed a
        round that needed this robot, so acting on the latest plan misses nothing.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: self._plan is not None and self._plan.round >= round_index,
                                          timeout_s):
                raise TimeoutError(f'no plan for round {round_index} within {timeout_s:.0f} s')
            return plan_from_msg(self._plan)

    def wait_completed(self, rounds: int, *, timeout_s: float) -> None:
        """Block until the server has finished `rounds` rounds (status.round counts them)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._completed_rounds >= rounds, timeout_s):
                raise TimeoutError(f'the server did not finish {rounds} rounds within {timeout_s:.0f} s')
