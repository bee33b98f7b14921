"""Cornell, Jacquard and SimGrasp folders written by the tests in the real formats, read back."""
import json
import math

import numpy as np
import pytest

from grasp_files import synthetic_scene, write_cornell_sample, write_jacquard_sample, write_png
from mtf_grasp.errors import InputError
from mtf_grasp.grasping import GraspRect, ModelSpec, dataset_stats, open_dataset

SPEC = ModelSpec(input_size=32, width=8)


def rects_close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert (g.cx, g.cy, g.length, g.jaw) == pytest.approx((e.cx, e.cy, e.length, e.jaw), abs=2e-3)
        assert abs(math.sin(g.angle - e.angle)) < 1e-4


@pytest.fixture
def cornell(tmp_path):
    rng = np.random.default_rng(1)
    scenes = [synthetic_scene(rng, width=64, height=48) for _ in range(3)]
    write_cornell_sample(tmp_path / '01', 100, *scenes[0])
    write_cornell_sample(tmp_path / '01', 101, *scenes[1], pointcloud_only=True)
    write_cornell_sample(tmp_path / '02', 200, *scenes[2])
    return tmp_path, scenes


def test_cornell_loads_rectangles_and_point_cloud_depth(cornell):
    root, scenes = cornell
    ds = open_dataset(root, spec=SPEC)
    assert ds.format == 'cornell' and ds.names == ['pcd0100', 'pcd0101', 'pcd0200']
    assert ds.categories is None and ds.category(0) is None
    for i, (_, _, grasps) in enumerate(scenes):
        rects_close(ds.source_rects(i), grasps)
    from_cloud = ds.sample(ds.index_of('pcd0101'))
    np.testing.assert_allclose(from_cloud.depth, scenes[1][1], atol=1e-6)   # millimetres -> metres
    assert from_cloud.rgb.shape == (48, 64, 3)
    rects_close(from_cloud.source_rects, scenes[1][2])


def test_cornell_nan_rectangle_is_skipped(tmp_path):
    rgb, depth, grasps = synthetic_scene(np.random.default_rng(0), width=64, height=48)
    write_cornell_sample(tmp_path, 7, rgb, depth, grasps)
    cpos = tmp_path / 'pcd0007cpos.txt'
    cpos.write_text(cpos.read_text() + 'NaN NaN\n1 2\n3 4\n5 6\n')
    rects_close(open_dataset(tmp_path, spec=SPEC).source_rects(0), grasps)


def test_jacquard_loads_rectangles_objects_and_stereo_option(tmp_path):
    rng = np.random.default_rng(2)
    scenes = {}
    for name in ('0_objA', '1_objA', '0_objB'):
        scenes[name] = synthetic_scene(rng, width=64, height=64)
        write_jacquard_sample(tmp_path / name.split('_')[1], name, *scenes[name])
    ds = open_dataset(tmp_path, spec=SPEC)
    assert ds.format == 'jacquard' and ds.categories == ['objA', 'objB']
    assert ds.names == ['0_objA', '1_objA', '0_objB']
    assert [ds.category(i) for i in range(3)] == [0, 0, 1]
    for i, name in enumerate(ds.names):
        rects_close(ds.source_rects(i), scenes[name][2])
    x, y = ds[0]
    assert x.shape == (4, 32, 32) and y.shape == (4, 32, 32) and 0.8 < float(y[0].max()) <= 1.0
    with pytest.raises(InputError, match='0_objA_stereo_depth.tiff: missing depth file'):
        open_dataset(tmp_path, spec=SPEC, stereo_depth=True)


def test_simgrasp_categories_and_camera(simgrasp_small):
    ds = open_dataset(simgrasp_small, spec=SPEC)
    assert ds.format == 'simgrasp' and ds.categories == ['box', 'bar']
    assert [ds.category(i) for i in range(4)] == [0, 1, 0, 1]
    assert ds.camera['width'] == 160
    sample = ds.sample(3)
    assert sample.name == '0003_0' and sample.category == 1
    for r in sample.rects:   # rectangles come in model pixels: 120x120 centre crop -> 32x32
        assert 0 <= r.cx <= 31 and 0 <= r.cy <= 31


def test_stats_for_all_three_layouts(cornell, simgrasp_small, tmp_path):
    root, scenes = cornell
    assert dataset_stats(root) == {'format': 'cornell', 'samples': 3,
                                   'grasps': sum(len(s[2]) for s in scenes), 'classes': None}
    stats = dataset_stats(simgrasp_small)
    assert stats == {'format': 'simgrasp', 'samples': 24, 'grasps': 48, 'classes': 2}
    jac = tmp_path / 'jac'
    write_jacquard_sample(jac, '0_objA', *synthetic_scene(np.random.default_rng(0), width=64, height=64))
    assert dataset_stats(jac, 'jacquard') == {'format': 'jacquard', 'samples': 1, 'grasps': 2, 'classes': 1}


def test_unknown_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(InputError, match='no Cornell .* Jacquard .* SimGrasp'):
        open_dataset(tmp_path)


@pytest.fixture
def jacquard_with_bad_samples(tmp_path):
    """Five samples: one good, four each broken in one way."""
    rng = np.random.default_rng(4)
    for name in ('0_good', '0_badline', '0_unreadable', '0_size', '0_nodepth'):
        write_jacquard_sample(tmp_path, name, *synthetic_scene(rng, width=64, height=64))
    (tmp_path / '0_badline_grasps.txt').write_text('10;10;0;20;8\n10;10;zero;20;8\n')
    (tmp_path / '0_unreadable_RGB.png').write_bytes(b'not a png')
    write_png(tmp_path / '0_size_RGB.png', np.zeros((32, 48, 3), np.uint8))
    (tmp_path / '0_nodepth_perfect_depth.tiff').unlink()
    return tmp_path


@pytest.mark.parametrize('name, message', [
    ('0_badline', r"0_badline_grasps.txt:2: expected 'x;y;angle;opening;jaw', got '10;10;zero;20;8'"),
    ('0_nodepth', r'0_nodepth_perfect_depth.tiff: missing depth file'),
])
def test_bad_grasp_file_or_missing_depth_fails_at_open(jacquard_with_bad_samples, name, message):
    root = jacquard_with_bad_samples
    for other in root.glob('*_grasps.txt'):
        if other.name.startswith(('0_badline', '0_nodepth')) and not other.name.startswith(name):
            other.rename(other.with_suffix('.off'))
    with pytest.raises(InputError, match=message) as err:
        open_dataset(root, spec=SPEC)
    assert '\n' not in str(err.value)


def test_unreadable_image_and_size_mismatch_name_the_file(jacquard_with_bad_samples):
    root = jacquard_with_bad_samples
    (root / '0_badline_grasps.txt').unlink()
    (root / '0_nodepth_grasps.txt').unlink()
    ds = open_dataset(root, spec=SPEC)
    with pytest.raises(InputError, match=r'0_unreadable_RGB.png: unreadable image'):
        ds.load(ds.index_of('0_unreadable'))
    with pytest.raises(InputError, match=r'0_size_perfect_depth.tiff: depth is 64x64 but 0_size_RGB.png is 48x32'):
        ds.load(ds.index_of('0_size'))


def test_skip_bad_keeps_the_good_and_lists_the_rest(jacquard_with_bad_samples):
    ds = open_dataset(jacquard_with_bad_samples, spec=SPEC, skip_bad=True)
    assert ds.names == ['0_good'] and len(ds) == 1 and ds.index_of('0_good') == 0
    skipped = sorted(file.rsplit('/', 1)[1] for file, _ in ds.skipped)
    assert skipped == ['0_badline_grasps.txt', '0_nodepth_perfect_depth.tiff', '0_size_perfect_depth.tiff',
                       '0_unreadable_RGB.png']
    assert ds[0][0].shape == (4, 32, 32)
    stats = dataset_stats(jacquard_with_bad_samples, skip_bad=True)
    assert stats['samples'] == 3 and len(stats['skipped']) == 2   # stats reads no images


def test_simgrasp_sample_without_category_is_an_error(simgrasp_small, tmp_path):
    import shutil
    root = shutil.copytree(simgrasp_small, tmp_path / 'copy')
    data = json.loads((root / 'categories.json').read_text())
    del data['samples']['0005_0']
    (root / 'categories.json').write_text(json.dumps(data))
    with pytest.raises(InputError, match=r'categories.json: samples.0005_0: None is not a category index'):
        open_dataset(root, spec=SPEC)


def test_augmented_items_repeat_for_the_same_rng(simgrasp_small):
    ds = open_dataset(simgrasp_small, spec=SPEC, augment=True)
    a = ds.item(2, rng=np.random.default_rng(9))
    b = ds.item(2, rng=np.random.default_rng(9))
    c = ds.item(2, rng=np.random.default_rng(10))
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0])
