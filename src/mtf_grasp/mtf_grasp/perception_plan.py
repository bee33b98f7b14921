"""The camera-side plans: which nodes serve grasps on one robot, from config/inference.yaml (a
RealSense or the simulated camera, plus grasp_inference) or config/replay.yaml (a bag replayer plus
grasp_inference). Used by launch/inference.launch.py and launch/replay.launch.py, and runnable
anywhere with `mtf_grasp.supervisor.Supervisor`, so one YAML file decides how the nodes run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from mtf_grasp.configfile import from_mapping, load_yaml
from mtf_grasp.perception.node_settings import InferenceConfig, RealSenseConfig, ReplayConfig, SimCameraConfig
from mtf_grasp.plan import NodeSpec

# Parameters naming files: made absolute, since nodes may run in another working directory.
PATH_PARAMETERS = ('model_path', 'bag_path', 'playback_file')


@dataclass(frozen=True)
class InferencePlanConfig:
    namespace: str = 'robot_0'
    camera: Literal['realsense', 'sim', 'none'] = 'realsense'   # 'none': frames come from elsewhere
    realsense_camera: RealSenseConfig = field(default_factory=RealSenseConfig)
    sim_camera: SimCameraConfig = field(default_factory=SimCameraConfig)
    grasp_inference: InferenceConfig = field(default_factory=InferenceConfig)


@dataclass(frozen=True)
class ReplayPlanConfig:
    namespace: str = 'robot_0'
    bag_replayer: ReplayConfig = field(default_factory=ReplayConfig)
    grasp_inference: InferenceConfig = field(default_factory=InferenceConfig)


def inference_plan(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> list[NodeSpec]:
    """Camera node (unless `camera: none`) and grasp_inference in the robot's namespace."""
    cfg = _load(InferencePlanConfig, path, overrides)
    specs = []
    if cfg.camera == 'realsense':
        specs.append(_spec('realsense_camera', cfg.namespace, cfg.realsense_camera))
    elif cfg.camera == 'sim':
        specs.append(_spec('sim_camera', cfg.namespace, cfg.sim_camera))
    return specs + [_spec('grasp_inference', cfg.namespace, cfg.grasp_inference)]


def replay_plan(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> list[NodeSpec]:
    """bag_replayer and grasp_inference in the robot's namespace."""
    cfg = _load(ReplayPlanConfig, path, overrides)
    return [_spec('bag_replayer', cfg.namespace, cfg.bag_replayer),
            _spec('grasp_inference', cfg.namespace, cfg.grasp_inference)]


def _load(cls, path: str | Path, overrides: Mapping[str, Any] | None):
    """The YAML file with `overrides` merged in per section ({'grasp_inference': {'model_path': ...}})."""
    data = load_yaml(path)
    for key, value in (overrides or {}).items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, Mapping) else value
    return from_mapping(cls, data, str(path))


def _spec(executable: str, namespace: str, settings) -> NodeSpec:
    parameters = dataclasses.asdict(settings)
    for name in PATH_PARAMETERS:
        if parameters.get(name):
            parameters[name] = str(Path(parameters[name]).expanduser().resolve())
    return NodeSpec(executable, executable, namespace, parameters)


def plan_launch_description(plan, *, config_name: str, arguments: Mapping[str, tuple[str | None, str, str]]):
    """A LaunchDescription (full ROS 2 installs) that runs `plan(config, overrides=...)`.

    `config:=FILE` defaults to the installed config/`config_name`; each entry of `arguments` is a
    launch argument `name -> (section or None for top level, key, description)`; a non-empty
    value overrides that key of the YAML file.
    """
    import os

    from ament_index_python.packages import get_package_share_directory
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.substitutions import LaunchConfiguration

    from mtf_grasp.plan import launch_actions

    def nodes(context):
        overrides: dict[str, Any] = {}
        for name, (section, key, _) in arguments.items():
            value = LaunchConfiguration(name).perform(context)
            if value and section is None:
                overrides[key] = value
            elif value:
                overrides.setdefault(section, {})[key] = value
        return launch_actions(plan(LaunchConfiguration('config').perform(context), overrides=overrides))

    default = os.path.join(get_package_share_directory('mtf_grasp'), 'config', config_name)
    declared = [DeclareLaunchArgument('config', default_value=default,
                                      description=f'plan YAML (default: config/{config_name})')]
    declared += [DeclareLaunchArgument(name, default_value='', description=description)
                 for name, (_, _, description) in arguments.items()]
    return LaunchDescription([*declared, OpaqueFunction(function=nodes)])
