"""Ablations from the paper's open questions, each a variant of MTF-Grasp on the same workload:
ranking by DDS only, DQS only or at random; every j from 1 to n−1; every assignment strategy."""
from __future__ import annotations

import dataclasses

from mtf_grasp.federated.assignment import STRATEGIES
from mtf_grasp.federated.config import ExperimentConfig
from mtf_grasp.federated.experiment import run_method
from mtf_grasp.federated.workload import Workload


def ablation_variants(config: ExperimentConfig) -> dict[str, ExperimentConfig]:
    """Variant name -> config; the main setting appears once under its own name (e.g. 'j=2')."""
    fed = config.federation
    variants = {}
    for ranking in ('is', 'dds', 'dqs', 'random'):
        variants[f'ranking={ranking}'] = dataclasses.replace(fed, ranking=ranking)
    for j in range(1, config.partition.robots):
        variants[f'j={j}'] = dataclasses.replace(fed, top_level=j)
    for strategy in STRATEGIES:
        variants[f'assignment={strategy}'] = dataclasses.replace(fed, assignment=strategy)
    return {name: dataclasses.replace(config, federation=f) for name, f in variants.items()}


def run_ablations(config: ExperimentConfig, workload: Workload, *, method: str = 'mtf_avg',
                  progress: bool = False) -> dict[str, dict]:
    """{variant: {"final_accuracy", "accuracy_per_round", "top_level"}} for `method`; variants
    equal to the main setting are run once and shared."""
    results: dict[str, dict] = {}
    by_setting: dict[tuple, dict] = {}
    for name, variant in ablation_variants(config).items():
        key = (variant.federation.ranking, variant.federation.top_level, variant.federation.assignment)
        if key not in by_setting:
            run = run_method(method, config=variant, workload=workload, progress=progress)
            by_setting[key] = {'final_accuracy': run['final_accuracy'],
                               'accuracy_per_round': run['accuracy_per_round'], 'seconds': run['seconds']}
        results[name] = by_setting[key]
    return results
