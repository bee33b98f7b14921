"""Grasps from one RGB-D frame: the same preprocessing and decoding as offline evaluation, with
the forward pass on torch or onnxruntime, and rectangles mapped back to source-image pixels."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from mtf_grasp.perception.inference_backend import check_runtime, make_backend
from mtf_grasp.perception.step_timer import StepTimer
from mtf_grasp.perception.workspace import WorkspaceSettings, grasps_inside, inner_mask, workspace_mask


@dataclass(frozen=True)
class DetectorSettings:
    backend: str = 'torch'
    device: str = 'cpu'
    max_grasps: int = 5
    min_quality: float = 0.0
    crop: tuple[int, int, int] | None = None     # (x0, y0, side) in source pixels; None: centred square
    threads: int = 0                             # CPU threads of the forward pass; 0: one per core
    precision: str = 'fp32'                      # 'fp32', 'bf16' (torch) or 'int8' (onnxruntime)
    calibration_frames: int = 8                  # int8: first frames, served in fp32, that set its ranges
    workspace: WorkspaceSettings = WorkspaceSettings()   # region, height band and edge margin grasps must keep

    def __post_init__(self):
        check_runtime(self.backend, self.precision)
        if self.calibration_frames < 1:
            raise ValueError(f'calibration_frames must be >= 1, got {self.calibration_frames}')


@dataclass(frozen=True)
class Detection:
    grasps: list            # GraspRect in source-image pixels, best first
    transform: object       # grasping ImageTransform between source and model pixels


class GraspDetector:
    """Holds one model version; `with_weights` builds the next one while this one keeps serving.

    For int8 the activation ranges must come from real inputs, so a detector without `calibration`
    serves in fp32 and keeps the inputs of its first `calibration_frames` frames; `calibrated()`
    then builds the int8 detector (slow: the caller decides where it runs)."""

    def __init__(self, model, *, version: int, settings: DetectorSettings,
                 calibration: Sequence[np.ndarray] = ()):
        self.spec = model.spec
        self.version = int(version)
        self.settings = settings
        self._model = model
        self._calibration = list(calibration)
        self.precision = 'fp32' if settings.precision == 'int8' and not self._calibration else settings.precision
        self._forward = make_backend(model, backend=settings.backend, device=settings.device, threads=settings.threads,
                                     precision=self.precision, calibration=self._calibration)

    @property
    def calibrating(self) -> bool:
        """int8 was asked for and this detector still serves fp32 while it collects inputs."""
        return self.precision != self.settings.precision

    @property
    def calibration_complete(self) -> bool:
        return self.calibrating and len(self._calibration) >= self.settings.calibration_frames

    def calibrated(self, inputs: Sequence[np.ndarray] | None = None) -> 'GraspDetector':
        """This model version in int8, its ranges from `inputs` (default: the frames collected)."""
        inputs = self._calibration if inputs is None else inputs
        return GraspDetector(self._model, version=self.version, settings=self.settings, calibration=tuple(inputs))

    @classmethod
    def from_file(cls, path: str | Path, *, settings: DetectorSettings) -> 'GraspDetector':
        from mtf_grasp.grasping.model_file import load_model

        model, _, meta = load_model(path)
        return cls(model, version=int(meta.get('version', 0)), settings=settings)

    def with_weights(self, state_dict, *, version: int) -> 'GraspDetector':
        from mtf_grasp.grasping.model_file import state_to_model

        # An int8 detector passes on its calibration inputs; one still calibrating starts afresh.
        return GraspDetector(state_to_model(state_dict, self.spec), version=version, settings=self.settings,
                             calibration=() if self.calibrating else self._calibration)

    def preprocess(self, rgb: np.ndarray, depth_m: np.ndarray):
        from mtf_grasp.grasping.transform import preprocess

        x, transform = preprocess(rgb, depth_m, spec=self.spec, crop=self.settings.crop)
        return x.numpy()[None], transform

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The bare network: 1×C×S×S input -> 4×S×S maps."""
        return self._forward(x)

    def detect(self, rgb: np.ndarray, depth_m: np.ndarray, *, timer: StepTimer | None = None) -> Detection:
        """Grasps for one frame; `timer` gets the preprocess, forward and decode steps marked. With a
        workspace, grasps are decoded only inside it."""
        from mtf_grasp.grasping.decode import maps_to_grasps

        timer = timer if timer is not None else StepTimer()
        x, transform = self.preprocess(rgb, depth_m)
        if self.calibrating and not self.calibration_complete:
            self._calibration.append(x)
        mask = None
        if self.settings.workspace.active:
            mask = workspace_mask(depth_m, self.settings.workspace)
        timer.mark('preprocess')
        maps = self.forward(x)
        timer.mark('forward')
        size = self.spec.input_size
        model_mask = None if mask is None else transform.to_model_mask(mask, size)
        if self.settings.workspace.edge_margin > 0:
            model_mask &= inner_mask(size, self.settings.workspace.edge_margin)
        grasps = maps_to_grasps(maps, max_grasps=self.settings.max_grasps, min_quality=self.settings.min_quality,
                                spec=self.spec, mask=model_mask)
        grasps = [transform.to_source(g) for g in grasps]
        detection = Detection(grasps=grasps if mask is None else grasps_inside(grasps, mask), transform=transform)
        timer.mark('decode')
        return detection
