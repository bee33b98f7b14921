"""The demo's serving step over real DDS: config/replay.yaml's bag_replayer and grasp_inference as
their own processes, a tiny model, and grasp_inference's grasps for every replayed frame (received
over DDS) drawn on the bag's frames; every node is gone when it returns."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from test_inference_replay import write_box_scenes

from mtf_grasp.bags import write_dataset_bag
from mtf_grasp.demo.serve import serve_and_save
from mtf_grasp.grasping import ModelSpec, build_model, save_model

pytestmark = pytest.mark.ros
CONFIG = Path(__file__).resolve().parents[2] / 'config'


def _processes_naming(path: Path) -> list[int]:
    """Live processes whose command line mentions `path` (the plan's parameter file)."""
    pids = []
    for entry in Path('/proc').iterdir():
        try:
            if entry.name.isdigit() and os.fsencode(path) in (entry / 'cmdline').read_bytes():
                pids.append(int(entry.name))
        except OSError:
            pass   # ended meanwhile
    return pids


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_served_frames_are_saved_as_annotated_images(tmp_path):
    torch.manual_seed(0)
    spec = ModelSpec(width=8, input_size=48)
    model_path = tmp_path / 'model.safetensors'
    save_model(model_path, build_model(spec).eval(), spec, extra_meta={'version': 3})
    root = write_box_scenes(tmp_path / 'data', scenes=3)
    bag = tmp_path / 'bag'
    write_dataset_bag(root, bag, period_s=0.3, progress=False)

    served = serve_and_save(config=CONFIG / 'replay.yaml', bag=bag, model=model_path,
                            out_dir=tmp_path / 'grasps', workdir=tmp_path / 'serve', timeout_s=150)

    assert served.frames == 3
    assert [p.name for p in served.images] == ['grasps_00.png', 'grasps_01.png', 'grasps_02.png']
    for k, path in enumerate(served.images):
        annotated = cv2.imread(str(path))[:, :, ::-1]
        scene = cv2.imread(str(root / f'{k}_box{k}_RGB.png'))[:, :, ::-1]
        assert annotated.shape == scene.shape == (72, 96, 3)
        # The scene as recorded (stamp order is the bag's), with grasp rectangles drawn on it.
        changed = np.any(annotated != scene, axis=2)
        assert 0 < changed.mean() < 0.5, f'{path.name}: {changed.mean():.3f} of the pixels differ from scene {k}'
    assert _processes_naming(tmp_path / 'serve' / 'params.yaml') == []
