"""`mtf-grasp bench inference` drives a real grasp_inference process and reports its figures."""
import json
import subprocess
import sys

import pytest

from mtf_grasp.perception import STEPS
from mtf_grasp.perception.inference_backend import native_bf16_cpu

pytestmark = pytest.mark.ros
BF16 = pytest.mark.skipif(not native_bf16_cpu(), reason='this CPU has no AVX512-BF16 or AMX')


def bench(*args):
    return subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'bench', 'inference', '--size', '64', '--width', '8',
                           '--frames', '4', '--warmup', '1', '--json', *args], capture_output=True, text=True, timeout=240)


@pytest.mark.slow
@pytest.mark.parametrize('backend, precision', [('torch', 'fp32'), ('onnxruntime', 'fp32'), ('onnxruntime', 'int8'),
                                                pytest.param('torch', 'bf16', marks=BF16)])
def test_bench_reports_latency_against_the_bare_forward(backend, precision):
    breakdown = backend == 'onnxruntime'    # the node's ~/timing topic, once; the others run without it
    out = bench('--backend', backend, '--precision', precision, *(['--breakdown'] if breakdown else []))
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    if breakdown:
        steps = figures['node_steps_p50_ms']
        assert list(steps) == [*STEPS, 'transport'] and all(ms > 0 for ms in steps.values())
    else:
        assert 'node_steps_p50_ms' not in figures
    assert (figures['backend'], figures['precision']) == (backend, precision)
    assert figures['frames'] == 4 and figures['size'] == 64
    assert 0 < figures['forward_p50_ms'] and 0 < figures['p50_ms'] <= figures['p99_ms']
    assert figures['callback_p50_ms'] >= figures['p50_ms']     # each frame's callback follows its reception
    assert figures['hz'] > 0
    # The ratio comes from the unrounded times; the printed ones are rounded to 0.01 ms, which for a
    # ~1 ms forward of this tiny model moves the ratio by more than any fixed tolerance would allow.
    p50, forward = figures['p50_ms'], figures['forward_p50_ms']
    low, high = (p50 - 0.005) / (forward + 0.005) - 1, (p50 + 0.005) / (forward - 0.005) - 1
    assert low - 5e-4 <= figures['overhead_ratio'] <= high + 5e-4


def test_bf16_on_onnxruntime_is_refused_in_one_line():
    out = bench('--backend', 'onnxruntime', '--precision', 'bf16')
    assert out.returncode != 0 and out.stdout == ''
    assert out.stderr.strip().splitlines() == ['mtf-grasp bench: error: precision bf16 needs backend torch (backend onnxruntime runs fp32 and int8)']


def test_a_model_the_bench_cannot_time_is_refused_in_one_line(tmp_path):
    from mtf_grasp.grasping import ModelSpec, build_model, save_model

    missing = tmp_path / 'none.safetensors'
    out = bench('--model', str(missing))
    assert out.returncode != 0 and out.stdout == ''
    assert out.stderr.strip().splitlines() == [f'mtf-grasp bench: error: {missing}: no such model file']
    small = tmp_path / 'small.safetensors'
    save_model(small, build_model(ModelSpec(width=8, input_size=32)), ModelSpec(width=8, input_size=32))
    out = bench('--model', str(small))
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == ['mtf-grasp bench: error: --model: input size 32 differs from --size 64']
