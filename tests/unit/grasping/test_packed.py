"""A packed dataset reads back as the source it was packed from, without decoding images."""
import numpy as np
import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.grasping import ModelSpec, open_dataset
from mtf_grasp.grasping.packed import pack_dataset

SPEC = ModelSpec(arch='ggcnn2', channels='rgbd', input_size=32)


@pytest.fixture(scope='module')
def packed(tmp_path_factory, simgrasp_small):
    source = open_dataset(simgrasp_small, spec=SPEC)
    out = pack_dataset(source, tmp_path_factory.mktemp('pack') / 'p')
    return source, out


def test_pack_reads_back_as_the_source_within_float16(packed):
    source, out = packed
    ds = open_dataset(out, spec=SPEC)
    assert ds.format == 'packed' and ds.names == source.names and ds.categories == source.categories
    for i in range(len(ds)):
        x, rects = ds.load(i)
        x0, rects0 = source.load(i)
        assert x.dtype == np.float32
        np.testing.assert_allclose(x, x0, atol=1e-3, rtol=1e-3)
        assert rects == rects0
        assert ds.category(i) == source.category(i)
        assert ds.source_rects(i) == source.source_rects(i)
    x, y = ds.tensors(0)
    assert tuple(x.shape) == (4, 32, 32) and tuple(y.shape) == (4, 32, 32)


def test_a_pack_refuses_another_input_size_and_camera_images(packed):
    _, out = packed
    with pytest.raises(InputError, match='input_size'):
        open_dataset(out, spec=ModelSpec(arch='ggcnn2', channels='rgbd', input_size=40))
    with pytest.raises(InputError, match='not camera images'):
        open_dataset(out, spec=SPEC).sample(0)
