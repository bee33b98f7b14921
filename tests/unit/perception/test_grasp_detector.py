"""The detector gives the offline pipeline's grasps, on torch and on onnxruntime, and swaps weights."""
import numpy as np
import pytest
import torch

from mtf_grasp.grasping.decode import predict_grasps
from mtf_grasp.grasping.model_file import build_model, save_model
from mtf_grasp.grasping.model_spec import ModelSpec
from mtf_grasp.grasping.transform import preprocess
from mtf_grasp.perception import BadFrame, DetectorSettings, GraspDetector, StepTimer, check_rgbd
from mtf_grasp.perception.inference_backend import native_bf16_cpu

SPEC = ModelSpec(width=8, input_size=32)


@pytest.fixture(scope='module')
def model_file(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model(SPEC)
    path = tmp_path_factory.mktemp('model') / 'm.safetensors'
    save_model(path, model, SPEC, extra_meta={'version': 3})
    return path


def frame(seed=0, size=(48, 64)):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 0.7, size).astype(np.float32)
    return rgb, depth


def assert_same_grasp(got, want):
    """The same grasp up to float rounding: the detector's and the offline pipeline's tensors take
    different kernels (angle seen 6e-9 rad apart), so pixels within 1e-3 and angles within 1e-5 rad
    (modulo pi: a grasp at +pi/2 is the one at -pi/2)."""
    assert [got.cx, got.cy, got.length, got.jaw] == pytest.approx([want.cx, want.cy, want.length, want.jaw], abs=1e-3)
    assert abs((got.angle - want.angle + np.pi / 2) % np.pi - np.pi / 2) < 1e-5
    assert got.quality == pytest.approx(want.quality, abs=1e-5)


def test_torch_detector_equals_offline_prediction_mapped_to_source(model_file):
    from mtf_grasp.grasping.model_file import load_model

    detector = GraspDetector.from_file(model_file, settings=DetectorSettings(max_grasps=3))
    assert detector.version == 3
    rgb, depth = frame()
    model, spec, _ = load_model(model_file)
    x, transform = preprocess(rgb, depth, spec=spec)
    expected = [transform.to_source(g) for g in predict_grasps(model, x, max_grasps=3)]
    timer = StepTimer()
    got = detector.detect(rgb, depth, timer=timer)
    assert len(got.grasps) == len(expected) == 3
    for g, e in zip(got.grasps, expected):
        assert_same_grasp(g, e)
    assert list(timer.ms) == ['preprocess', 'forward', 'decode'] and all(ms > 0 for ms in timer.ms.values())


def test_a_step_timed_before_the_timer_keeps_its_place_and_value():
    timer = StepTimer()
    timer.add('dispatch', 0.25)
    timer.mark('convert')
    assert list(timer.ms) == ['dispatch', 'convert'] and timer.ms['dispatch'] == 0.25 and timer.ms['convert'] >= 0


def test_onnxruntime_matches_torch(model_file):
    rgb, depth = frame(1)
    torch_det = GraspDetector.from_file(model_file, settings=DetectorSettings(backend='torch'))
    onnx_det = GraspDetector.from_file(model_file, settings=DetectorSettings(backend='onnxruntime'))
    x, _ = torch_det.preprocess(rgb, depth)
    np.testing.assert_allclose(onnx_det.forward(x), torch_det.forward(x), atol=1e-4)


@pytest.mark.skipif(not native_bf16_cpu(), reason='this CPU has no AVX512-BF16 or AMX')
def test_bf16_forward_stays_close_to_fp32_and_returns_float32(model_file):
    rgb, depth = frame(4)
    fp32 = GraspDetector.from_file(model_file, settings=DetectorSettings(backend='torch'))
    bf16 = GraspDetector.from_file(model_file, settings=DetectorSettings(backend='torch', precision='bf16'))
    x, _ = fp32.preprocess(rgb, depth)
    want, got = fp32.forward(x), bf16.forward(x)
    assert got.dtype == np.float32
    assert not np.array_equal(got, want)          # really computed in bfloat16 (8-bit mantissa)
    np.testing.assert_allclose(got, want, atol=0.05 * np.abs(want).max())
    assert bf16.with_weights(build_model(SPEC).state_dict(), version=4).forward(x).dtype == np.float32


@pytest.mark.parametrize('backend, precision, message', [('onnxruntime', 'bf16', 'needs backend torch'),
                                                         ('torch', 'int8', 'needs backend onnxruntime'),
                                                         ('torch', 'fp16', "precision 'fp16' is not one of")])
def test_unsupported_precision_is_refused_by_name(backend, precision, message):
    with pytest.raises(ValueError, match=message):
        DetectorSettings(backend=backend, precision=precision)


def test_int8_serves_fp32_until_calibrated_on_its_first_frames(model_file):
    settings = DetectorSettings(backend='onnxruntime', precision='int8', calibration_frames=3)
    detector = GraspDetector.from_file(model_file, settings=settings)
    fp32 = GraspDetector.from_file(model_file, settings=DetectorSettings(backend='onnxruntime'))
    frames = [frame(seed) for seed in range(4)]
    x, _ = detector.preprocess(*frames[3])
    for rgb, depth in frames[:3]:
        assert detector.calibrating and not detector.calibration_complete and detector.precision == 'fp32'
        assert np.array_equal(detector.forward(x), fp32.forward(x))
        detector.detect(rgb, depth)
    assert detector.calibration_complete
    int8 = detector.calibrated()
    assert (int8.precision, int8.calibrating, int8.version) == ('int8', False, 3)
    got, want = int8.forward(x), fp32.forward(x)
    assert not np.array_equal(got, want)          # really quantized
    np.testing.assert_allclose(got, want, atol=0.05 * np.abs(want).max())
    # A new global model is quantized at once, with the same calibration frames.
    assert int8.with_weights(build_model(SPEC).state_dict(), version=4).precision == 'int8'


def test_crop_and_thresholds_are_applied(model_file):
    rgb, depth = frame(2)
    settings = DetectorSettings(max_grasps=5, min_quality=1.01, crop=(8, 4, 40))
    detector = GraspDetector.from_file(model_file, settings=settings)
    detection = detector.detect(rgb, depth)
    assert detection.grasps == []
    assert (detection.transform.x0, detection.transform.y0) == (8, 4)
    assert detection.transform.scale == pytest.approx(32 / 40)


def test_with_weights_serves_the_new_version(model_file):
    detector = GraspDetector.from_file(model_file, settings=DetectorSettings())
    rgb, depth = frame(3)
    x, _ = detector.preprocess(rgb, depth)
    state = {k: v * 0 if v.dtype.is_floating_point else v for k, v in build_model(SPEC).state_dict().items()}
    swapped = detector.with_weights(state, version=4)
    assert swapped.version == 4 and detector.version == 3
    assert not np.allclose(swapped.forward(x), detector.forward(x))


def test_frame_checks():
    rgb, depth = frame()
    check_rgbd(rgb, depth, info_size=(64, 48), max_invalid_depth=0.5)
    with pytest.raises(BadFrame, match='sizes differ'):
        check_rgbd(rgb, depth[:, :60], info_size=(64, 48), max_invalid_depth=0.5)
    with pytest.raises(BadFrame, match='sizes differ'):
        check_rgbd(rgb, depth, info_size=(640, 480), max_invalid_depth=0.5)
    holes = depth.copy()
    holes[:30] = np.nan
    with pytest.raises(BadFrame, match='62% of the depth image'):
        check_rgbd(rgb, holes, info_size=(64, 48), max_invalid_depth=0.5)
