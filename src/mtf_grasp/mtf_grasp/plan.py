"""Node plans: which executables run under which names, namespaces and parameters.

A plan is a list of `NodeSpec`. The same plan is started by ROS 2 launch files on a full
install (`launch_actions`) and by `mtf-grasp fleet` as plain OS processes (`command_line`),
so a setting lives in exactly one YAML file whichever way the fleet is started. So does a node's
restart policy: both runners ask its `RestartTracker` what to do when it exits.

A spec with `hosted` nodes is one OS process that runs all of them on one executor (many
simulated robots on a workstation): its executable takes them as `EXECUTABLE:/NS/NAME` arguments,
and their parameters come from the params file under their fully qualified names.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml

from mtf_grasp.restarts import Decision, Outcome, RestartPolicy, RestartTracker

PACKAGE = 'mtf_grasp'


@dataclass(frozen=True)
class NodeSpec:
    """One node of a plan. `parameters` holds plain YAML-able values only. With a `restart`
    policy a crashed node is started again; a `required` node that fails for good (its own
    verdict, or left down after crashing too often) fails the run, any other is left down."""

    executable: str
    name: str
    namespace: str = ''
    parameters: dict[str, Any] = field(default_factory=dict)
    remappings: tuple[tuple[str, str], ...] = ()
    package: str = PACKAGE
    restart: RestartPolicy | None = None
    required: bool = True
    hosted: tuple['NodeSpec', ...] = ()  # the nodes this process runs (then `name` names the process)

    @property
    def fully_qualified_name(self) -> str:
        ns = self.namespace.strip('/')
        return f'/{ns}/{self.name}' if ns else f'/{self.name}'

    @property
    def nodes(self) -> tuple['NodeSpec', ...]:
        """The ROS nodes this spec starts: its hosted ones, or itself."""
        return self.hosted or (self,)


def hosted_arguments(spec: NodeSpec) -> list[str]:
    """The host process's arguments naming its nodes: `EXECUTABLE:/NS/NAME` each."""
    return [f'{node.executable}:{node.fully_qualified_name}' for node in spec.hosted]


def parse_hosted(argument: str) -> tuple[str, str, str]:
    """(executable, namespace, name) of one `hosted_arguments` entry; ValueError for a malformed one."""
    executable, _, fqn = argument.partition(':')
    namespace, _, name = fqn.rpartition('/')
    if not executable or not fqn.startswith('/') or not name:
        raise ValueError(f'{argument!r} is not EXECUTABLE:/NAMESPACE/NAME')
    return executable, namespace or '/', name


def write_params_file(specs: Iterable[NodeSpec], path: str | Path) -> Path:
    """Write one ROS 2 parameter file for all nodes of `specs`, keyed by fully qualified node name."""
    path = Path(path)
    doc = {node.fully_qualified_name: {'ros__parameters': dict(node.parameters)}
           for spec in specs for node in spec.nodes}
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
    if spec.hosted:  # a remapped __node or __ns would rename every node of the process
        return [os.fspath(executable_path(spec)), *hosted_arguments(spec), '--ros-args',
                '--params-file', os.fspath(params_file)]
    argv = [os.fspath(executable_path(spec)), '--ros-args', '-r', f'__node:={spec.name}']
    if spec.namespace:
        argv += ['-r', f'__ns:=/{spec.namespace.strip("/")}']
    for src, dst in spec.remappings:
        argv += ['-r', f'{src}:={dst}']
    argv += ['--params-file', os.fspath(params_file)]
    return argv


def launch_actions(specs: Sequence[NodeSpec], *,
                   on_end: Callable[[NodeSpec, Decision, list[RestartTracker]], list] | None = None,
                   env: dict[str, str] | None = None) -> list:
    """launch_ros Node actions for `specs` (needs a full ROS 2 install with launch_ros), with `env`
    added to each node's environment (not the launch's own: launch_pytest runs in the test process).

    A node with a restart policy is started again as its RestartTracker decides, by our own
    OnProcessExit handler rather than launch's `respawn`, which restarts on every exit (also a
    clean one) with a fixed delay and no crash window. When a node ends for good (finished,
    failed or left down) `on_end(spec, decision, trackers)` gives the actions to take; the
    default logs failures."""
    trackers = [RestartTracker(spec.name, spec.restart) for spec in specs]
    actions = []
    for spec, tracker in zip(specs, trackers):
        actions += _watched_node(spec, tracker, trackers, on_end or _log_end, env)
    return actions


def _watched_node(spec: NodeSpec, tracker: RestartTracker, trackers: list[RestartTracker], on_end,
                  env: dict[str, str] | None) -> list:
    from launch.actions import LogInfo, RegisterEventHandler, TimerAction
    from launch.event_handlers import OnProcessExit
    from launch_ros.actions import Node

    if spec.hosted:
        node = Node(package=spec.package, executable=spec.executable, arguments=hosted_arguments(spec),
                    parameters=[os.fspath(write_params_file([spec], _scratch_file(spec)))],
                    additional_env=env or None, output='screen', emulate_tty=True)
    else:
        node = Node(package=spec.package, executable=spec.executable, name=spec.name,
                    namespace=spec.namespace or None, parameters=[dict(spec.parameters)],
                    remappings=list(spec.remappings), additional_env=env or None, output='screen',
                    emulate_tty=True)

    def exited(event, context):
        if context.is_shutdown:
            return None  # the launch is ending: every node is being stopped
        decision = tracker.on_exit(event.returncode)
        if decision.outcome is Outcome.RESTART:
            return [LogInfo(msg=f'restarts: {decision.message}'),
                    TimerAction(period=decision.delay_s,
                                actions=_watched_node(spec, tracker, trackers, on_end, env))]
        return on_end(spec, decision, trackers)

    if spec.restart is None and on_end is _log_end:
        return [node]
    return [node, RegisterEventHandler(OnProcessExit(target_action=node, on_exit=exited))]


def _scratch_file(spec: NodeSpec) -> Path:
    """A params file for a host process under launch (launch's own are per node, not per process)."""
    import tempfile

    handle, path = tempfile.mkstemp(prefix=f'{spec.name}-', suffix='.yaml')
    os.close(handle)
    return Path(path)


def _log_end(spec: NodeSpec, decision: Decision, trackers) -> list:
    from launch.actions import LogInfo

    return [] if decision.outcome is Outcome.FINISHED else [LogInfo(msg=f'restarts: {decision.message}')]
