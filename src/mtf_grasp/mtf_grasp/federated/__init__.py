"""Federated learning core of MTF-Grasp (no rclpy): scores, partitions, tier assignment,
aggregation, the pieces of a round, the model codec, byte accounting and the experiment runner.

The ROS fleet and the in-process experiment call the same functions, so for one config, seed and
dataset both end with the same global model.
"""
from mtf_grasp.federated.aggregation import (StreamingAverage, StreamingNova, effective_steps,
                                             is_statistic, nova_average, weighted_average)
from mtf_grasp.federated.assignment import STRATEGIES, assign, balanced, class_complement, round_robin
from mtf_grasp.federated.ablations import ablation_variants, run_ablations
from mtf_grasp.federated.codec import (ENCODINGS, EncodedModel, ModelRejected, decode_state,
                                       encode_state, encoding_name, expected_layout, spec_json)
from mtf_grasp.federated.config import (ALL_METHODS, DataConfig, ExperimentConfig, FederationConfig,
                                        PartitionConfig, experiment_from_mapping, load_experiment_config)
from mtf_grasp.federated.experiment import accuracy_on_test_set, initial_state, run_experiment, run_method
from mtf_grasp.federated.labels import ANGLE_BINS, LABELLERS, angle_bin, class_count, histogram, label_samples
from mtf_grasp.federated.partition import Partition, class_noniid, quantity_skew, split_test
from mtf_grasp.federated.planning import (METHOD_BASES, RANKINGS, TIERED_METHODS, RoundPlan,
                                          method_base, plan_round, robot_seed)
from mtf_grasp.federated.profiles import RobotProfile, id_order, robot_ids
from mtf_grasp.federated.rounds import (LocalTrainingSettings, ModelUpdate, local_update,
                                        server_aggregate, tier_aggregate)
from mtf_grasp.federated.report import markdown_table, seeds_table, summarise_seeds, write_report
from mtf_grasp.federated.scores import (RobotScore, distribution_score, quantity_score, score_robots,
                                        top_level)
from mtf_grasp.federated.simulation import Wire, run_round
from mtf_grasp.federated.traffic import SERVER, TrafficLedger, Transfer
from mtf_grasp.federated.workload import Workload, make_partition, prepare_workload, robot_profile

__all__ = [
    'ALL_METHODS', 'ANGLE_BINS', 'ENCODINGS', 'LABELLERS', 'METHOD_BASES', 'RANKINGS', 'SERVER',
    'STRATEGIES', 'TIERED_METHODS', 'DataConfig', 'EncodedModel', 'ExperimentConfig', 'FederationConfig',
    'LocalTrainingSettings', 'ModelRejected', 'ModelUpdate', 'Partition', 'PartitionConfig', 'RobotProfile',
    'RobotScore', 'RoundPlan', 'StreamingAverage', 'StreamingNova', 'TrafficLedger', 'Transfer', 'Wire',
    'Workload', 'ablation_variants', 'accuracy_on_test_set', 'angle_bin', 'assign', 'balanced',
    'class_complement', 'class_count', 'class_noniid', 'decode_state', 'distribution_score',
    'effective_steps', 'encode_state', 'encoding_name', 'expected_layout', 'experiment_from_mapping',
    'histogram', 'id_order', 'initial_state', 'is_statistic', 'label_samples', 'load_experiment_config',
    'local_update', 'make_partition', 'markdown_table', 'method_base', 'nova_average', 'plan_round',
    'prepare_workload', 'quantity_score', 'quantity_skew', 'robot_ids', 'robot_profile', 'robot_seed',
    'round_robin', 'run_ablations', 'run_experiment', 'run_method', 'run_round', 'score_robots',
    'seeds_table', 'server_aggregate', 'spec_json', 'split_test', 'summarise_seeds', 'tier_aggregate',
    'top_level', 'weighted_average', 'write_report',
]
