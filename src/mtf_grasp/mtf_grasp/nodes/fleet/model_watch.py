"""The model a robot starts a round from, taken from a latched topic: the round's global model
from the server (`/fleet/round_model`), or a low-level robot's seed from its coordinator
(`/<coordinator>/tier/seed_model`).

One publication reaches each subscriber once. Polling a FetchModel service instead cost m
subscribers m² copies of the model a round, since under rmw_fastrtps every client of a service
receives every response and discards the others' (ros2/rmw_fastrtps#559), and each poll that came
before the model was a round trip more. The topic keeps the latest model for a robot that
subscribes late or restarts (transient local); the services stay, for audits, tools and a robot
the topic has kept waiting.

A blob that fails the robot's check (unsigned, forged, another architecture, undecodable) is
dropped with a throttled warning and never replaces an accepted model.
"""
from __future__ import annotations

import threading
import time

from mtf_grasp_interfaces.msg import ModelBlob
from mtf_grasp_interfaces.srv import FetchModel

from mtf_grasp.nodes.blob_transport import BlobRejected, ServiceTimeout, call_service
from mtf_grasp.nodes.fleet import names


class ModelWatch:
    """A robot's subscriptions to model topics, each made on its first wait and kept (destroying one
    from a robot's thread while the executor spins can end the executor: rclpy's InvalidHandle in
    its wait set); `check(blob, source=...)` admits a blob and returns its state (RobotTraining.check).

    A robot that has waited `ask_every_s` without its model asks the sender's FetchModel service once,
    and again after each further `ask_every_s`: a late joiner that the topic missed (a DDS delivery
    lost, or a sender that restarted between two publications) still gets the model, and the asking
    is logged, so a topic that fails is seen."""

    def __init__(self, node, *, requester: str, check, callback_group, ask_every_s: float, poll_s: float = 0.2):
        self._node = node
        self._requester = requester
        self._check = check
        self._group = callback_group
        self._ask_every_s = ask_every_s
        self._poll_s = poll_s   # how often a waiting robot asks give_up(); a local check, no traffic
        self._changed = threading.Condition()
        self._subscriptions = {}   # topic -> subscription
        self._clients = {}         # service -> FetchModel client, made on the first ask
        self._accepted = {}        # topic -> (blob, state) of its latest model that passed the check

    def wait(self, source: str, topic: str, service: str, round_index: int, *, timeout_s: float, give_up=None):
        """(blob, state) of `source`'s model for `round_index`, from `topic` (or `service`); None
        once `give_up()` is true; TimeoutError after `timeout_s` without it."""
        if topic not in self._subscriptions:
            self._subscriptions[topic] = self._node.create_subscription(
                ModelBlob, topic, lambda blob: self._on_model(source, topic, blob), names.LATCHED,
                callback_group=self._group)
        started = time.monotonic()
        deadline, ask_at = started + timeout_s, started + self._ask_every_s
        while True:
            with self._changed:
                accepted = self._accepted.get(topic)
                if accepted is not None and accepted[0].round == round_index:
                    return accepted
                if give_up is not None and give_up():
                    return None
                now = time.monotonic()
                if now >= deadline:
                    raise TimeoutError(f'{topic}: no model for round {round_index} within {timeout_s:.0f} s')
                if now < ask_at:
                    self._changed.wait(min(self._poll_s, deadline - now, ask_at - now))
                    continue
            self._node.get_logger().warning(f'round {round_index}: no model on {topic} after {now - started:.0f} s; '
                                            f'asking {service}')
            self._ask(source, topic, service, round_index, timeout_s=min(self._ask_every_s, deadline - now))
            ask_at = time.monotonic() + self._ask_every_s

    def _ask(self, source: str, topic: str, service: str, round_index: int, *, timeout_s: float) -> None:
        if service not in self._clients:
            self._clients[service] = self._node.create_client(FetchModel, service, qos_profile=names.SERVICE_QOS,
                                                              callback_group=self._group)
        try:
            response = call_service(self._clients[service], FetchModel.Request(requester=self._requester,
                                                                               round=round_index),
                                    timeout_s=max(1.0, timeout_s))
        except ServiceTimeout:
            return
        if response.available:
            self._on_model(source, topic, response.blob)

    def _on_model(self, source: str, topic: str, blob: ModelBlob) -> None:
        try:
            state = self._check(blob, source=source)
        except BlobRejected as exc:
            self._node.get_logger().warning(f'model on {topic} dropped: {exc}', throttle_duration_sec=10.0)
            return
        with self._changed:
            self._accepted[topic] = (blob, state)
            self._changed.notify_all()
