"""Node plans: which executables run under which names, namespaces and parameters.

A plan is a list of `NodeSpec`. The same plan is started by ROS 2 launch files on a full
install (`launch_actions`) and by `mtf-grasp fleet` as plain OS processes (`command_line`),
so a setting lives in exactly one YAML file whichever way the fleet is started.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

PACKAGE = 'mtf_grasp'


@dataclass(frozen=True)
class NodeSpec:
    """One node of a plan. `parameters` holds plain YAML-able values only."""

    executable: str
    name: str
    namespace: str = ''
    parameters: dict[str, Any] = field(default_factory=dict)
    remappings: tuple[tuple[str, str], ...] = ()
    package: str = PACKAGE

    @property
    def fully_qualified_name(self) -> str:
        ns = self.namespace.strip('/')
        return f'/{ns}/{self.name}' if ns else f'/{self.name}'


def write_params_file(specs: Iterable[NodeSpec], path: str | Path) -> Path:
    """Write one ROS 2 parameter file for all `specs`, keyed by fully qualified node name."""
    path = Path(path)
    doc = {spec.fully_qualified_name: {'ros__parameters': dict(spec.parameters)} for spec in specs}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(doc, Dumper=_NoAliasDumper, sort_keys=False))
    return path


class _NoAliasDumper(yaml.SafeDumper):
    """rcl's parameter parser rejects YAML aliases, which PyYAML emits for shared objects."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def executable_path(spec: NodeSpec) -> Path:
    """Where colcon installed the node's console script (share/../lib/<package>/<executable>)."""
    from ament_index_python.packages import get_package_prefix

    return Path(get_package_prefix(spec.package)) / 'lib' / spec.package / spec.executable


def command_line(spec: NodeSpec, params_file: str | Path) -> list[str]:
    """The argv that starts `spec` as its own process, as `ros2 run` would."""
    argv = [os.fspath(executable_path(spec)), '--ros-args', '-r', f'__node:={spec.name}']
    if spec.namespace:
        argv += ['-r', f'__ns:=/{spec.namespace.strip("/")}']
    for src, dst in spec.remappings:
        argv += ['-r', f'{src}:={dst}']
    argv += ['--params-file', os.fspath(params_file)]
    return argv


def launch_actions(specs: Sequence[NodeSpec]) -> list:
    """launch_ros Node actions for `specs` (needs a full ROS 2 install with launch_ros)."""
    from launch_ros.actions import Node

    return [
        Node(package=spec.package, executable=spec.executable, name=spec.name,
             namespace=spec.namespace or None, parameters=[dict(spec.parameters)],
             remappings=list(spec.remappings), output='screen', emulate_tty=True)
        for spec in specs
    ]
