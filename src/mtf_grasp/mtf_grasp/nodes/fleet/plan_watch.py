"""A robot's view of the server: the latest round plan and fleet status, and waits on them."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from mtf_grasp_interfaces.msg import FleetStatus
from mtf_grasp_interfaces.msg import RoundPlan as PlanMsg

from mtf_grasp.federated.planning import RoundPlan
from mtf_grasp.nodes.fleet import names
from mtf_grasp.nodes.fleet.messages import plan_from_msg


@dataclass(frozen=True)
class PlanEvent:
    """What a robot waits for between rounds: a plan message it has not acted on (`seq` counts
    plan messages; a server restarted mid-round publishes the same round again), the end of the
    rounds (`plan` is None), or a status saying this robot must register (again)."""

    plan: RoundPlan | None
    seq: int
    register: bool = False


class PlanWatch:
    """Subscribes to the latched plan and status topics of `node` for robot `robot_id`."""

    def __init__(self, node, *, robot_id: str, rounds: int, callback_group=None):
        self.robot_id = robot_id
        self.rounds = rounds
        self._changed = threading.Condition()
        self._plan = None
        self._seq = 0
        self._completed_rounds = 0
        self._unregistered = False
        self.registered = threading.Event()  # the latest status lists this robot
        node.create_subscription(PlanMsg, names.ROUND_PLAN, self._on_plan, names.LATCHED,
                                 callback_group=callback_group)
        node.create_subscription(FleetStatus, names.FLEET_STATUS, self._on_status, names.LATCHED,
                                 callback_group=callback_group)

    def _on_plan(self, msg: PlanMsg) -> None:
        with self._changed:
            self._plan = msg
            self._seq += 1
            self._changed.notify_all()

    def _on_status(self, msg: FleetStatus) -> None:
        with self._changed:
            self._completed_rounds = max(self._completed_rounds, msg.round)
            # A server that (re)started knows no robot yet: it says so in its first status.
            self._unregistered = self.robot_id not in msg.registered_ids
            if self._unregistered:
                self.registered.clear()
            else:
                self.registered.set()
            self._changed.notify_all()

    @property
    def seq(self) -> int:
        """How many plan messages have arrived so far."""
        with self._changed:
            return self._seq

    def moved_on(self, seq: int, *, registration: bool = False) -> bool:
        """True once the round of plan `seq` is no longer worth waiting for: a later plan arrived,
        the rounds are over, or (with `registration`) the server no longer lists this robot (it
        restarted, and waits for registrations before it can serve that round again)."""
        with self._changed:
            return (self._seq > seq or self._completed_rounds >= self.rounds
                    or (registration and self._unregistered))

    def next_event(self, after_seq: int, *, timeout_s: float, registration: bool = False) -> PlanEvent:
        """Block until the latest plan is newer than `after_seq`, the rounds are over, or (with
        `registration`) the server does not list this robot as registered.

        Only the latest plan is kept; when this robot sat a round out (its client while its
        coordinator trained), the server may already be further on. It cannot have passed a
        round that needed this robot, so acting on the latest plan misses nothing.
        """
        def ready():
            return (self._seq > after_seq or self._completed_rounds >= self.rounds
                    or (registration and self._unregistered))

        with self._changed:
            if not self._changed.wait_for(ready, timeout_s):
                raise TimeoutError(f'no new round plan within {timeout_s:.0f} s')
            if registration and self._unregistered:
                self._unregistered = False  # the next status says whether registering worked
                return PlanEvent(plan=None, seq=after_seq, register=True)
            if self._seq > after_seq:
                return PlanEvent(plan=plan_from_msg(self._plan), seq=self._seq)
            return PlanEvent(plan=None, seq=self._seq)

    def follow(self, *, act, timeout_s: float, register=None, repeat=None) -> None:
        """Drive a robot node through the rounds until the server has finished them all.

        `act(plan, seq) -> bool` for each round not done yet (False: it gave the round up, e.g.
        to register again; it is acted on again if it is still the latest); `register()` whenever
        the server does not list this robot; `repeat(plan, seq)` when a round already done is
        planned again (the server restarted during it and lost what it had received).
        """
        seq, done, unfinished = 0, -1, None
        while True:
            event = self.next_event(seq, timeout_s=timeout_s, registration=register is not None)
            if event.register:
                register()
                if unfinished is None:
                    continue
                plan = unfinished
            elif event.plan is None:
                return
            else:
                seq, plan = event.seq, event.plan
            if plan.round_index > done:
                finished = act(plan, seq)
                done, unfinished = (plan.round_index, None) if finished else (done, plan)
            elif repeat is not None:
                repeat(plan, seq)


def reopened(sent, plan: RoundPlan, seq: int) -> bool:
    """Whether plan message `seq` reopens the round of `sent` = (round, blob, plan seq when it was
    sent): a server that restarted during that round lost the model and needs it again."""
    return sent is not None and sent[0] == plan.round_index and seq > sent[2]
