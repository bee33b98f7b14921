"""`mtf-grasp bench inference` drives a real grasp_inference process and reports its figures."""
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.ros


@pytest.mark.slow
@pytest.mark.parametrize('backend', ['torch', 'onnxruntime'])
def test_bench_reports_latency_against_the_bare_forward(backend):
    out = subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'bench', 'inference', '--backend', backend,
                          '--size', '64', '--width', '8', '--frames', '4', '--warmup', '1', '--json'],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert figures['backend'] == backend and figures['frames'] == 4 and figures['size'] == 64
    assert 0 < figures['forward_p50_ms'] and 0 < figures['p50_ms'] <= figures['p99_ms']
    assert figures['hz'] > 0
    assert figures['overhead_ratio'] == pytest.approx(figures['p50_ms'] / figures['forward_p50_ms'] - 1, rel=5e-3, abs=2e-3)
