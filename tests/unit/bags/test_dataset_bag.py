"""Dataset -> rosbag2 -> read back: lossless images, calibration, ground truth, type hashes."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from mtf_grasp.bags import decode, read_bag, write_dataset_bag
from mtf_grasp.errors import InputError
from mtf_grasp.grasping import open_dataset
from mtf_grasp.perception import color_to_rgb, depth_to_metres, intrinsics_from_camera_info, topics

INTERFACES = Path(__import__('ament_index_python.packages', fromlist=['x']).get_package_share_directory(
    'mtf_grasp_interfaces'))


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_frames_round_trip_losslessly(tiny_jacquard, tmp_path, storage):
    bag = tmp_path / 'bag'
    summary = write_dataset_bag(tiny_jacquard, bag, storage=storage, period_s=0.25, progress=False)
    assert summary['frames'] == 3 and summary['format'] == 'jacquard'
    messages = read_bag(bag)
    assert len(messages) == 12
    dataset = open_dataset(tiny_jacquard)
    by_topic = {}
    for m in messages:
        by_topic.setdefault(m.topic, []).append(m)
    assert sorted(by_topic) == sorted(summary['topics'])
    stamps = [m.timestamp_ns for m in by_topic[f'/{topics.COLOR}']]
    assert np.diff(stamps).tolist() == [250_000_000, 250_000_000]
    for i in range(3):
        sample = dataset.sample(i)
        color = decode(by_topic[f'/{topics.COLOR}'][i])
        depth = decode(by_topic[f'/{topics.DEPTH}'][i])
        info = decode(by_topic[f'/{topics.CAMERA_INFO}'][i])
        truth = decode(by_topic[f'/{topics.GROUND_TRUTH}'][i])
        np.testing.assert_array_equal(color_to_rgb(color), sample.rgb)
        np.testing.assert_array_equal(depth_to_metres(depth), sample.depth)
        assert color.header.stamp == depth.header.stamp == info.header.stamp == truth.header.stamp
        assert color.header.frame_id == topics.COLOR_FRAME
        k = intrinsics_from_camera_info(info)
        assert (k.width, k.height) == (80, 60)
        expected = dataset.source_rects(i)
        got = [v for g in truth.grasps for v in (g.center_x, g.center_y, g.length_px, g.jaw_px)]
        assert got == pytest.approx([v for r in expected for v in (r.cx, r.cy, r.length, r.jaw)])
        assert [g.angle for g in truth.grasps] == pytest.approx([r.angle for r in expected], abs=1e-6)
        first = truth.grasps[0]
        assert first.pose.position.z == pytest.approx(float(np.median(sample.depth[23 + i:28 + i, 28 + i:33 + i])))
        assert first.width_m == pytest.approx(expected[0].length * first.pose.position.z / k.fx * math.hypot(
            math.cos(expected[0].angle), math.sin(expected[0].angle) * k.fx / k.fy), rel=1e-5)


def test_metadata_names_types_with_rclpy_hashes(tiny_jacquard, tmp_path):
    write_dataset_bag(tiny_jacquard, tmp_path / 'bag', progress=False)
    meta = yaml.safe_load((tmp_path / 'bag' / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
    assert meta['storage_identifier'] == 'mcap'
    hashes = {t['topic_metadata']['name']: t['topic_metadata']['type_description_hash']
              for t in meta['topics_with_message_count']}
    generated = json.loads((INTERFACES / 'msg' / 'GraspArray.json').read_text())['type_hashes'][0]
    assert generated['type_name'] == 'mtf_grasp_interfaces/msg/GraspArray'
    assert hashes[f'/{topics.GROUND_TRUTH}'] == generated['hash_string']


def test_bad_arguments_are_input_errors(tiny_jacquard, tmp_path):
    with pytest.raises(InputError, match='--storage'):
        write_dataset_bag(tiny_jacquard, tmp_path / 'a', storage='rosbag', progress=False)
    (tmp_path / 'exists').mkdir()
    with pytest.raises(InputError, match='already exists'):
        write_dataset_bag(tiny_jacquard, tmp_path / 'exists', progress=False)
    with pytest.raises(InputError, match='not a rosbag2'):
        read_bag(tmp_path / 'exists')
