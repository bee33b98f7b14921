"""The pick plan of one robot, from config/pick.yaml: a camera node (RealSense or the simulated
one), grasp_inference and grasp_executor, with the one `extrinsics` section handed to each node
that needs it. Used by launch/pick.launch.py and `mtf-grasp pick-trials`."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from mtf_grasp.arm.settings import ExecutorConfig
from mtf_grasp.configfile import from_mapping, load_yaml
from mtf_grasp.perception.extrinsics import CameraExtrinsics
from mtf_grasp.perception.node_settings import InferenceConfig, RealSenseConfig, SimCameraConfig
from mtf_grasp.perception_plan import _spec
from mtf_grasp.plan import NodeSpec

NEEDS_EXTRINSICS = ('sim_camera', 'grasp_inference', 'grasp_executor')


@dataclass(frozen=True)
class PickPlanConfig:
    namespace: str = 'robot_0'
    camera: Literal['realsense', 'sim', 'none'] = 'sim'
    extrinsics: CameraExtrinsics = field(default_factory=CameraExtrinsics)
    realsense_camera: RealSenseConfig = field(default_factory=RealSenseConfig)
    sim_camera: SimCameraConfig = field(default_factory=SimCameraConfig)
    grasp_inference: InferenceConfig = field(default_factory=InferenceConfig)
    grasp_executor: ExecutorConfig = field(default_factory=ExecutorConfig)


def load_pick_config(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> PickPlanConfig:
    """config/pick.yaml with `overrides` merged per section; `extrinsics` copied into each node's
    section (where a node section sets them too, the extrinsics section wins: one calibration)."""
    data = load_yaml(path)
    for key, value in (overrides or {}).items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, Mapping) else value
    extrinsics = data.get('extrinsics') or {}
    if not isinstance(extrinsics, Mapping):
        return from_mapping(PickPlanConfig, data, str(path))      # names the bad section
    for section in NEEDS_EXTRINSICS:
        data[section] = {**(data.get(section) or {}), **copy.deepcopy(dict(extrinsics))}
    return from_mapping(PickPlanConfig, data, str(path))


def pick_plan(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> list[NodeSpec]:
    cfg = load_pick_config(path, overrides=overrides)
    specs = []
    if cfg.camera == 'realsense':
        specs.append(_spec('realsense_camera', cfg.namespace, cfg.realsense_camera))
    elif cfg.camera == 'sim':
        specs.append(_spec('sim_camera', cfg.namespace, cfg.sim_camera))
    return specs + [_spec('grasp_inference', cfg.namespace, cfg.grasp_inference),
                    _spec('grasp_executor', cfg.namespace, cfg.grasp_executor)]
