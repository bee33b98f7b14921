"""The SimGrasp generator: N labelled scenes written in parallel, reproducible from one seed.

Scene i draws from its own seed (seed, i, attempt), so the output does not depend on the number
of workers or on scheduling. A scene in which no grasp survives the physics trial is redrawn.
"""
from __future__ import annotations

import contextlib
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from mtf_grasp.errors import InputError
from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.sim.dataset_files import prepare_output, sample_name, write_metadata, write_sample
from mtf_grasp.sim.labelling import label_scene
from mtf_grasp.sim.scene import PRESETS, random_scene

GENERATOR_VERSION = 1
MAX_ATTEMPTS = 20


def scene_seed(seed: int, index: int, attempt: int) -> int:
    return int(np.random.SeedSequence([seed, index, attempt]).generate_state(1)[0])


@dataclass(frozen=True)
class _Written:
    name: str
    category: int
    grasps: int
    attempts: int
    trials: int


def _make_sample(job: tuple[str, int, int, str]) -> _Written:
    out, seed, index, preset = job
    trials = 0
    for attempt in range(MAX_ATTEMPTS):
        scene = label_scene(random_scene(scene_seed(seed, index, attempt), preset=preset))
        trials += scene.trials
        if scene.grasps:
            name = sample_name(index)
            write_sample(Path(out), name, scene)
            return _Written(name, scene.category, len(scene.grasps), attempt + 1, trials)
    raise RuntimeError(f'scene {index}: no confirmed grasp in {MAX_ATTEMPTS} draws')


@contextlib.contextmanager
def _mapper(workers: int):
    """An ordered map over `workers` processes (in-process for one)."""
    if workers == 1:
        yield map
        return
    # spawn: each worker starts clean and builds its own MuJoCo models and GL context.
    with multiprocessing.get_context('spawn').Pool(workers) as pool:
        yield pool.imap


def generate_dataset(out: str | Path, *, scenes: int, seed: int, workers: int = 2,
                     progress: bool = True, preset: str = 'tabletop') -> dict:
    """Write `scenes` samples of the scene `preset` (sim.scene.PRESETS) into `out` with `workers`
    processes; return the manifest."""
    if scenes < 1:
        raise InputError(f'--scenes: must be at least 1, got {scenes}')
    if workers < 1:
        raise InputError(f'--workers: must be at least 1, got {workers}')
    if seed < 0:
        raise InputError(f'--seed: must be at least 0, got {seed}')
    if preset not in PRESETS:
        raise InputError(f'--preset: {preset!r} is not one of {", ".join(PRESETS)}')
    categories = PRESETS[preset].categories
    out = prepare_output(out, seed=seed, scenes=scenes, preset=preset)
    jobs = [(str(out), seed, i, preset) for i in range(scenes)]
    written = []
    with _mapper(min(workers, scenes)) as mapper, \
            tqdm(total=scenes, desc='simgrasp', unit='scene', disable=not progress) as bar:
        for result in mapper(_make_sample, jobs):
            written.append(result)
            bar.update()
    manifest = {
        'generator': 'simgrasp', 'version': GENERATOR_VERSION, 'preset': preset, 'seed': seed, 'scenes': scenes,
        'samples': len(written), 'grasps': sum(w.grasps for w in written),
        'categories': list(categories),
        'category_counts': np.bincount([w.category for w in written], minlength=len(categories)).tolist(),
        'redrawn_scenes': sum(w.attempts - 1 for w in written),
        'physics_trials': sum(w.trials for w in written),
        'depth': 'RealSense-like: axial noise, 1 mm steps, 0.0 = hole' if preset == 'tabletop' else
                 'RealSense-like or structured light (steps growing with z², flying pixels), 0.0 = hole',
    }
    write_metadata(out, categories=categories, samples={w.name: w.category for w in written},
                   intrinsics=CameraIntrinsics.realsense_d435(), manifest=manifest)
    return manifest
