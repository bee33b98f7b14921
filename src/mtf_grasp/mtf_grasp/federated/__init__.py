"""Federated learning core of MTF-Grasp (no rclpy): scores, partitions, tier assignment,
aggregation, the pieces of a round, the model codec, byte accounting and the experiment runner.

The ROS fleet and the in-process experiment call the same functions, so for one config, seed and
dataset both end with the same global model.
"""
from mtf_grasp.federated.aggregation import (StreamingAverage, StreamingNova, effective_steps,
                                             is_statistic, nova_average, weighted_average)
from mtf_grasp.federated.assignment import STRATEGIES, assign, balanced, class_complement, round_robin
from mtf_grasp.federated.codec import (ENCODINGS, EncodedModel, ModelRejected, decode_state,
                                       encode_state, encoding_name, expected_layout, spec_json)
from mtf_grasp.federated.partition import Partition, class_noniid, quantity_skew, split_test
from mtf_grasp.federated.planning import (METHOD_BASES, RANKINGS, TIERED_METHODS, RoundPlan,
                                          method_base, plan_round, robot_seed)
from mtf_grasp.federated.profiles import RobotProfile, id_order, robot_ids
from mtf_grasp.federated.rounds import (LocalTrainingSettings, ModelUpdate, local_update,
                                        server_aggregate, tier_aggregate)
from mtf_grasp.federated.scores import (RobotScore, distribution_score, quantity_score, score_robots,
                                        top_level)
from mtf_grasp.federated.traffic import SERVER, TrafficLedger, Transfer

__all__ = [
    'ENCODINGS', 'METHOD_BASES', 'RANKINGS', 'SERVER', 'STRATEGIES', 'TIERED_METHODS',
    'EncodedModel', 'LocalTrainingSettings', 'ModelRejected', 'ModelUpdate', 'Partition',
    'RobotProfile', 'RobotScore', 'RoundPlan', 'StreamingAverage', 'StreamingNova', 'TrafficLedger',
    'Transfer', 'assign', 'balanced', 'class_complement', 'class_noniid', 'decode_state',
    'distribution_score', 'effective_steps', 'encode_state', 'encoding_name', 'expected_layout',
    'id_order', 'is_statistic', 'local_update', 'method_base', 'nova_average', 'plan_round',
    'quantity_score', 'quantity_skew', 'robot_ids', 'robot_seed', 'round_robin', 'score_robots',
    'server_aggregate', 'spec_json', 'split_test', 'tier_aggregate', 'top_level', 'weighted_average',
]
