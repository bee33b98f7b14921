"""QoS shared by the fleet, camera, inference and pick nodes."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

# A late joiner still gets the latest message (plan, status, model, camera info): reliable +
# transient-local, depth 1.
LATCHED = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


def camera_qos(*, reliable: bool, depth: int) -> QoSProfile:
    """The camera topics' QoS, for publishers and subscribers alike: sensor data (best effort, as a
    RealSense driver publishes), or reliable keeping `depth` messages where every frame should arrive
    (a reliable publisher still reaches best-effort subscribers)."""
    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE) if reliable else qos_profile_sensor_data
