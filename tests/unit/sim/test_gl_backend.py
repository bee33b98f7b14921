"""A GL backend that cannot start is replaced by one that can, before MuJoCo is imported."""
import os
import subprocess
import sys

import pytest

SCRIPT = ('import os, mtf_grasp.sim as sim; '
          'r = sim.SceneRenderer(sim.SimScene(sim.random_scene(0))); r.render(); r.close(); '
          'print(os.environ["MUJOCO_GL"])')


@pytest.mark.slow  # three probe processes
def test_unusable_backend_falls_back_to_a_working_one():
    env = {k: v for k, v in os.environ.items() if not k.startswith('MTF_GRASP_GL')}
    env['MUJOCO_GL'] = 'glfw'   # needs a display, which test machines do not have
    env.pop('DISPLAY', None)
    result = subprocess.run([sys.executable, '-c', SCRIPT], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] in ('egl', 'osmesa')
