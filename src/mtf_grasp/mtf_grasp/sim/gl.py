"""MuJoCo, imported after picking a headless OpenGL backend: `from mtf_grasp.sim.gl import mujoco`.

MuJoCo binds its GL backend from MUJOCO_GL at import time, so the choice must be made first;
every module of this package gets `mujoco` from here.
A one-off probe in a subprocess tries the requested backend (default EGL), then OSMesa; the
result is stored in the environment, so worker processes inherit it without probing again.
"""
from __future__ import annotations

import os
import subprocess
import sys

_CHECKED = 'MTF_GRASP_GL_CHECKED'
# A context that only "opens" is not enough (GLFW without a display warns and goes on):
# MuJoCo's own render context must be created on it.
_PROBE = ('import mujoco; c = mujoco.GLContext(16, 16); c.make_current(); '
          "mujoco.MjrContext(mujoco.MjModel.from_xml_string('<mujoco/>'), 150); c.free()")


def _works(backend: str) -> bool:
    env = dict(os.environ, MUJOCO_GL=backend)
    try:
        done = subprocess.run([sys.executable, '-c', _PROBE], env=env, capture_output=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def select_gl_backend() -> str:
    """Set MUJOCO_GL to a backend that creates a context here (requested, egl, osmesa); return it.

    Does nothing once checked in this process tree, or once mujoco is already imported.
    """
    requested = os.environ.get('MUJOCO_GL', '')
    if os.environ.get(_CHECKED) == requested or 'mujoco' in sys.modules:
        return requested
    for backend in dict.fromkeys(b for b in (requested, 'egl', 'osmesa') if b):
        if _works(backend):
            break
    else:
        backend = requested or 'egl'  # none works: keep it, rendering will raise a clear error
    os.environ['MUJOCO_GL'] = backend
    os.environ[_CHECKED] = backend
    return backend


select_gl_backend()
import mujoco  # noqa: E402  (only once the backend is chosen)
