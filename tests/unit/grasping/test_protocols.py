"""Evaluation protocols: each protocol's crop on hand-computed examples, the splits, and the Cornell
loader on the real dev samples (../shared/data/cornell-dev)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mtf_grasp.grasping import CropRule, GraspRect, ModelSpec, open_dataset, split_indices
from mtf_grasp.grasping.cornell import read_cornell_rects

CORNELL_DEV = Path(__file__).resolve().parents[4] / 'shared' / 'data' / 'cornell-dev'


def _rect(cx, cy):
    return GraspRect(cx=cx, cy=cy, angle=0.0, length=30.0, jaw=10.0)


def test_cornell_crop_is_centred_on_the_mean_ground_truth_centre():
    # centres (300, 200) and (311, 231): mean (305.5, 215.5) -> whole pixels (305, 215);
    # 224 square: x0 = 305 - 112 = 193, y0 = 215 - 112 = 103
    rule = CropRule.for_protocol('cornell')
    assert rule.crop(480, 640, [_rect(300, 200), _rect(311, 231)]) == (193, 103, 224)


def test_cornell_crop_is_moved_inside_the_image():
    rule = CropRule.for_protocol('cornell', side=300)
    assert rule.crop(480, 640, [_rect(620, 20)]) == (340, 0, 300)     # x0 = min(620-150, 640-300)
    assert rule.crop(480, 640, [_rect(10, 470)]) == (0, 180, 300)      # y0 = min(470-150, 480-300)


def test_deploy_crop_is_the_fixed_node_crop_whatever_the_ground_truth():
    rule = CropRule.for_protocol('deploy', side=200, x0=40, y0=30)
    assert rule.crop(480, 640, [_rect(600, 400)]) == (40, 30, 200) == rule.fixed_crop
    assert CropRule.for_protocol('deploy').crop(480, 640, [_rect(600, 400)]) is None   # centred largest square


def test_jacquard_crop_is_the_whole_image():
    assert CropRule.for_protocol('jacquard').crop(1024, 1024, [_rect(100, 100)]) is None


@pytest.mark.parametrize('kwargs', [dict(protocol='cornell', side=0), dict(protocol='mystery'),
                                    dict(protocol='deploy', side=-1)])
def test_bad_crop_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        CropRule(**kwargs)


def test_cornell_crop_larger_than_the_image_is_refused():
    with pytest.raises(ValueError, match='does not fit'):
        CropRule.for_protocol('cornell', side=500).crop(480, 640, [_rect(320, 240)])


def test_object_wise_folds_are_contiguous_and_image_wise_folds_are_shuffled():
    folds = [split_indices(20, split='object-wise', fold=k) for k in range(5)]
    assert folds[0] == [0, 1, 2, 3] and folds[4] == [16, 17, 18, 19]
    shuffled = [split_indices(20, split='image-wise', fold=k) for k in range(5)]
    assert sorted(i for f in shuffled for i in f) == list(range(20))     # a partition
    assert any(f != list(range(f[0], f[0] + len(f))) for f in shuffled)   # not in name order
    assert shuffled == [split_indices(20, split='image-wise', fold=k) for k in range(5)]   # seeded


def test_split_arguments_are_checked():
    with pytest.raises(ValueError):
        split_indices(20, split='scene-wise', fold=0)
    with pytest.raises(ValueError):
        split_indices(20, split='image-wise', fold=5, folds=5)


@pytest.mark.skipif(not CORNELL_DEV.is_dir(), reason='the Cornell dev samples are not in ../shared/data')
def test_real_cornell_files_read_with_nan_rectangles_skipped_and_depth_in_metres(tmp_path):
    cpos = CORNELL_DEV / 'pcd0100cpos.txt'
    lines = [t for t in cpos.read_text().splitlines() if t.strip()]
    rects = read_cornell_rects(cpos)
    assert len(rects) == len(lines) // 4 and len(rects) > 0
    # the first rectangle from its four corners, by hand
    (x0, y0), (x1, y1), (x2, y2), _ = [tuple(map(float, t.split())) for t in lines[:4]]
    assert rects[0].length == pytest.approx(math.hypot(x1 - x0, y1 - y0))
    assert rects[0].jaw == pytest.approx(math.hypot(x2 - x1, y2 - y1))
    # a copy with one corner NaN loses exactly that rectangle
    broken = tmp_path / 'pcd0100cpos.txt'
    broken.write_text('\n'.join(['NaN NaN'] + lines[1:]) + '\n')
    assert len(read_cornell_rects(broken)) == len(rects) - 1

    ds = open_dataset(CORNELL_DEV, spec=ModelSpec(input_size=112), crop=CropRule.for_protocol('cornell'))
    assert ds.format == 'cornell' and len(ds) == 20
    sample = ds.sample(0)
    assert sample.rgb.shape == (480, 640, 3) and sample.depth.dtype == np.float32
    valid = sample.depth[sample.depth > 0]
    assert 0.3 < float(np.median(valid)) < 1.5          # a Kinect on a board: metres, not millimetres
    # the cornell crop: 224 px centred on the ground truth, resized to 112 -> scale 0.5
    assert sample.transform.scale == pytest.approx(0.5)
    centre = np.mean([[r.cx, r.cy] for r in ds.source_rects(0)], axis=0).astype(int)
    assert (sample.transform.x0, sample.transform.y0) == (centre[0] - 112, centre[1] - 112)


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    import torch

    from mtf_grasp.grasping import build_model, save_model
    torch.manual_seed(0)
    spec = ModelSpec(width=8, input_size=32)
    path = tmp_path_factory.mktemp('model') / 'm.safetensors'
    save_model(path, build_model(spec), spec)
    return path


def _evaluate(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'evaluate', *map(str, args)], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.skipif(not CORNELL_DEV.is_dir(), reason='the Cornell dev samples are not in ../shared/data')
def test_evaluate_command_runs_each_protocol_on_the_real_samples(tiny_model):
    import json
    runs = {'cornell': ['--protocol', 'cornell', '--split', 'object-wise', '--fold', 4],
            'deploy': ['--protocol', 'deploy', '--crop-size', 300, '--crop-x0', 170, '--crop-y0', 90,
                       '--workspace-roi', '100,40,540,440', '--max-height', 0.25, '--edge-margin', 0.08],
            'jacquard': ['--protocol', 'jacquard']}
    for protocol, extra in runs.items():
        done = _evaluate('--model', tiny_model, '--data', CORNELL_DEV, '--json', *extra)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report['protocol'] == protocol and 0 <= report['accuracy'] <= 1
        assert report['samples'] == (4 if protocol == 'cornell' else 20)
    assert report['crop_size'] == 0 and report['workspace'] is None
    assert json.loads(_evaluate('--model', tiny_model, '--data', CORNELL_DEV, '--json', *runs['deploy']).stdout)[
        'workspace'] == {'roi': [100, 40, 540, 440], 'min_height_m': 0.01, 'max_height_m': 0.25, 'edge_margin': 0.08}


@pytest.mark.slow
@pytest.mark.skipif(not CORNELL_DEV.is_dir(), reason='the Cornell dev samples are not in ../shared/data')
def test_evaluate_clearance_reranks_the_nodes_candidates(tiny_model):
    """--clearance re-orders grasp_inference's 5 candidates: the top-5 set, hence top-5 accuracy,
    is the detector's own; the report names the check's settings."""
    import json
    kinect = ['--intrinsics', '585,585,319.5,239.5']
    plain, clear = (json.loads(_evaluate('--model', tiny_model, '--data', CORNELL_DEV, '--json', '--top-k', 5,
                                         *extra).stdout) for extra in ([], ['--clearance', *kinect]))
    assert clear['successes'] == plain['successes'] and plain['clearance'] is None
    assert clear['clearance'] == {'candidates': 5, 'margin_m': 0.004, 'max_blocked': 0.05}
    top1 = json.loads(_evaluate('--model', tiny_model, '--data', CORNELL_DEV, '--json', '--clearance', *kinect).stdout)
    assert top1['clearance']['candidates'] == 5 and set(top1['successes']) <= set(plain['successes'])


@pytest.mark.parametrize('args, message', [
    (['--clearance'], '--clearance: ' + str(CORNELL_DEV) + ' has no camera.json; give --intrinsics'),
    (['--clearance', '--intrinsics', '585,0,1,1'], "--intrinsics '585,0,1,1': expected fx,fy,cx,cy"),
    (['--clearance', '--protocol', 'jacquard'], '--clearance: the clearance check belongs to the deploy protocol'),
    (['--protocol', 'cornell', '--max-height', '0.2'], '--max-height: a workspace belongs to the deploy protocol'),
    (['--workspace-roi', '1,2'], "--workspace-roi '1,2': expected x0,y0,x1,y1"),
    (['--protocol', 'cornell', '--crop-size', '0'], '--protocol cornell: the cornell protocol needs a crop side'),
    (['--min-height', '0.3', '--max-height', '0.2'], 'workspace band [0.3, 0.2] m'),
    (['--protocol', 'cornell', '--edge-margin', '0.08'], '--edge-margin: a workspace belongs to the deploy protocol'),
    (['--edge-margin', '0.5'], 'workspace edge margin 0.5: need 0 <= edge_margin < 0.5'),
])
def test_evaluate_protocol_options_are_checked_in_one_line(tiny_model, args, message):
    done = _evaluate('--model', tiny_model, '--data', CORNELL_DEV, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
