"""The functional core never imports rclpy: not at module level, not inside a function, not
through another module of the project."""
import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import mtf_grasp

CORE = ('grasping', 'federated', 'perception', 'sim')
PACKAGE = Path(mtf_grasp.__file__).parent


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split('.')[0])
    return roots


@pytest.mark.parametrize('package', CORE)
def test_no_core_file_names_rclpy_or_ros_messages(package):
    files = sorted((PACKAGE / package).rglob('*.py'))
    assert files
    offenders = {str(f.relative_to(PACKAGE)): sorted(r & {'rclpy', 'mtf_grasp_interfaces', 'sensor_msgs'})
                 for f in files if _imported_roots(f) & {'rclpy', 'mtf_grasp_interfaces', 'sensor_msgs'}}
    assert offenders == {}


def test_importing_every_core_module_loads_no_rclpy():
    modules = []
    for package in CORE:
        modules.append(f'mtf_grasp.{package}')
        modules += [info.name for info in pkgutil.walk_packages([str(PACKAGE / package)], f'mtf_grasp.{package}.')]
    code = ('import importlib, sys\n'
            f'for name in {modules!r}:\n'
            '    importlib.import_module(name)\n'
            "print(sorted(m for m in sys.modules if m == 'rclpy' or m.startswith(('rclpy.', 'mtf_grasp.nodes'))))\n")
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == '[]'
    assert len(modules) > 40
