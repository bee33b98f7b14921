"""Topic and service names of the fleet, and the QoS of its state topics, in one place."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from mtf_grasp.nodes.qos import LATCHED  # noqa: F401 - the fleet's state topics (names.LATCHED)

# Server side (absolute: every robot namespace reaches the same server).
REGISTER = '/fleet/register_robot'
GLOBAL_MODEL = '/fleet/fetch_model'         # the round's global model, for audits and tools
ROUND_MODEL = '/fleet/round_model'           # ... latched, for the robots (nodes/fleet/model_watch.py)
SUBMIT_TO_SERVER = '/fleet/submit_model'
ROUND_PLAN = '/fleet/round_plan'
FLEET_STATUS = '/fleet/status'
GLOBAL_VERSION = '/fleet/global_version'
GLOBAL_MODEL_LATEST = '/fleet/global_model'   # latched ModelBlob for grasp_inference nodes
RECEIPTS = '/fleet/receipts'   # members' receipts (ModelBlob without payload) of what they sent a coordinator
SEED_REPORTS = '/fleet/seed_reports'   # members' signed losses of their coordinator's seed (the seed check)



# Services: every request and response kept until taken. ROS's default service QoS keeps the last
# 10, so a server or coordinator that gets more than 10 calls before its executor takes them drops
# the rest without a word and their callers wait out their timeout (measured with 25 and 50
# simultaneous fetches of a 296 KB model: 10 answered); and under rmw_fastrtps every client of a
# service receives every response and discards the others' (ros2/rmw_fastrtps#559), so a client's
# own answer could be pushed out of a depth-10 queue as well.
SERVICE_QOS = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE)

# Receipts and seed reports: reliable, and kept for a server whose subscription matches late.
RECEIPT_QOS = QoSProfile(depth=16, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


def seed_topic(coordinator_id: str) -> str:
    """The latched topic on which `coordinator_id` publishes its seed model to its low-level robots."""
    return f'/{coordinator_id}/tier/seed_model'


def seed_model(coordinator_id: str) -> str:
    """Where an audit fetches the seed model of `coordinator_id` (the tier's reference)."""
    return f'/{coordinator_id}/tier/fetch_model'


def submit_to_coordinator(coordinator_id: str) -> str:
    """Where the low-level robots of `coordinator_id` push their fine-tuned models."""
    return f'/{coordinator_id}/tier/submit_model'


def sent_model(robot_id: str) -> str:
    """Where the server fetches the model `robot_id` sent its coordinator this round (an audit)."""
    return f'/{robot_id}/audit/fetch_sent_model'


def own_model(coordinator_id: str) -> str:
    """Where the server fetches the coordinator's own model of its cluster this round (an audit)."""
    return f'/{coordinator_id}/audit/fetch_own_model'
