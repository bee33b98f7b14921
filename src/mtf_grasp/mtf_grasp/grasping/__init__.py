"""Grasp learning without ROS: rectangles and the metric, datasets, networks, training, evaluation.

Importing this package imports torch; command modules import it inside their run functions.
"""
from mtf_grasp.grasping.augment import Augmentation, warp_sample
from mtf_grasp.grasping.dataset import GraspDataset, GraspSample, dataset_stats, open_dataset
from mtf_grasp.grasping.decode import decode_grasps, maps_to_grasps, predict_grasps
from mtf_grasp.grasping.device import resolve_device
from mtf_grasp.grasping.evaluation import EvalResult, evaluate, evaluate_frames
from mtf_grasp.grasping.layouts import FORMATS, detect_format
from mtf_grasp.grasping.metric import grasp_success, rect_matches
from mtf_grasp.grasping.model_file import build_model, load_model, read_model_meta, save_model, state_to_model
from mtf_grasp.grasping.model_spec import ModelSpec
from mtf_grasp.grasping.protocols import PROTOCOLS, SPLITS, CropRule, split_indices
from mtf_grasp.grasping.rect import GraspRect, angle_difference, inside_image, normalise_angle, rect_iou
from mtf_grasp.grasping.sample_files import SampleError
from mtf_grasp.grasping.targets import encode_targets, width_scale
from mtf_grasp.grasping.train_loop import TrainStats, grasp_loss, train_epochs
from mtf_grasp.grasping.transform import ImageTransform, preprocess

__all__ = [
    'Augmentation', 'CropRule', 'EvalResult', 'PROTOCOLS', 'SPLITS', 'evaluate_frames', 'split_indices', 'FORMATS', 'GraspDataset', 'GraspRect', 'GraspSample', 'ImageTransform',
    'ModelSpec', 'SampleError', 'TrainStats', 'angle_difference', 'build_model', 'dataset_stats',
    'decode_grasps', 'detect_format', 'encode_targets', 'evaluate', 'grasp_loss', 'grasp_success', 'inside_image',
    'load_model', 'maps_to_grasps', 'normalise_angle', 'open_dataset', 'predict_grasps', 'preprocess',
    'read_model_meta', 'rect_iou', 'rect_matches', 'resolve_device', 'save_model', 'state_to_model',
    'train_epochs', 'warp_sample', 'width_scale',
]
