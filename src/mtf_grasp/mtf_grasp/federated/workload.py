"""The data side of an experiment: dataset, partition manifest, per-robot indices and profiles.

A fleet client builds the same pieces for itself from (dataset root, manifest, robot id) with
`robot_profile` and `Partition.indices`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtf_grasp.federated.config import ExperimentConfig
from mtf_grasp.federated.labels import class_count, histogram, label_samples
from mtf_grasp.federated.partition import Partition, class_noniid, quantity_skew
from mtf_grasp.federated.profiles import RobotProfile


@dataclass
class Workload:
    dataset: object                   # a grasping.GraspDataset
    partition: Partition
    indices: dict[str, list[int]]     # robot id -> dataset indices
    test_indices: list[int]
    profiles: list[RobotProfile]


def robot_profile(dataset, partition: Partition, *, robot_id: str, labeller: str) -> RobotProfile:
    """The profile a robot registers with: its sample count and class histogram."""
    indices = partition.indices(dataset, robot_id)
    labels = label_samples(dataset, labeller, indices=indices)
    return RobotProfile(robot_id, len(indices), histogram(labels, class_count(dataset, labeller)))


def make_partition(config: ExperimentConfig, dataset) -> Partition:
    """The seeded partition the config describes over all the dataset's samples."""
    names = list(dataset.names)
    part = config.partition
    common = dict(robots=part.robots, seed=config.seed, min_samples=part.min_samples,
                  test_fraction=config.data.test_fraction, test_samples=config.data.test_samples,
                  max_train=config.data.max_train_samples,
                  dataset=str(dataset.root))
    if part.method == 'quantity_skew':
        return quantity_skew(names, beta=part.beta, **common)
    labels = label_samples(dataset, config.data.labeller, indices=[dataset.index_of(n) for n in names])
    return class_noniid(names, labels, classes_per_robot=part.classes_per_robot, alpha=part.alpha, **common)


def prepare_workload(config: ExperimentConfig, *, manifest: str | Path | None = None, dataset=None) -> Workload:
    """Open the dataset (or use `dataset`, opened for this config's data and model) and partition it
    (or reload `manifest` when given)."""
    from mtf_grasp.grasping import open_dataset

    if dataset is None:
        dataset = open_dataset(config.data.root, spec=config.model, augment=config.data.augment)
    partition = Partition.load(manifest) if manifest else make_partition(config, dataset)
    indices = {robot: partition.indices(dataset, robot) for robot in partition.robots}
    profiles = [robot_profile(dataset, partition, robot_id=robot, labeller=config.data.labeller)
                for robot in partition.robots]
    return Workload(dataset=dataset, partition=partition, indices=indices,
                    test_indices=partition.indices(dataset, 'test'), profiles=profiles)
