"""`mtf-grasp pick-trials` refuses bad input in one line with exit code 2."""
import subprocess
import sys

import pytest


@pytest.mark.parametrize('args, message', [
    (['--model', 'x.safetensors', '--trials', '0'], '--trials: must be at least 1, got 0'),
    (['--model', 'missing.safetensors', '--trials', '2'], '--model: no such file missing.safetensors'),
])
def test_bad_arguments(tmp_path, args, message):
    done = subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'pick-trials', *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f'mtf-grasp pick-trials: error: {message}']
