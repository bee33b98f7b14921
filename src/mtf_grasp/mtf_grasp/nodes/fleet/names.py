"""Topic and service names of the fleet, and the QoS of its state topics, in one place."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from mtf_grasp.nodes.qos import LATCHED  # noqa: F401 - the fleet's state topics (names.LATCHED)

# Server side (absolute: every robot namespace reaches the same server).
REGISTER = '/fleet/register_robot'
GLOBAL_MODEL = '/fleet/fetch_model'
SUBMIT_TO_SERVER = '/fleet/submit_model'
ROUND_PLAN = '/fleet/round_plan'
FLEET_STATUS = '/fleet/status'
GLOBAL_VERSION = '/fleet/global_version'
GLOBAL_MODEL_LATEST = '/fleet/global_model'   # latched ModelBlob for grasp_inference nodes
RECEIPTS = '/fleet/receipts'   # members' receipts (ModelBlob without payload) of what they sent a coordinator



# Receipts: reliable, and kept for a server whose subscription matches late.
RECEIPT_QOS = QoSProfile(depth=16, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


def seed_model(coordinator_id: str) -> str:
    """Where the low-level robots of `coordinator_id` pull their seed model."""
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
