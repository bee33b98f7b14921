"""Model files: safetensors weights with the spec and metadata as JSON in the safetensors header.
Nothing is ever unpickled."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from mtf_grasp.errors import InputError
from mtf_grasp.grasping.ggcnn2 import GGCNN2
from mtf_grasp.grasping.grconvnet import GRConvNet
from mtf_grasp.grasping.model_spec import ModelSpec

META_KEY = 'mtf_grasp'
FORMAT_VERSION = 1


def build_model(spec: ModelSpec) -> torch.nn.Module:
    """A fresh network for `spec`; its forward maps B×C×S×S to B×4×S×S and `model.spec` is `spec`."""
    return GRConvNet(spec) if spec.arch == 'grconvnet' else GGCNN2(spec)


def state_to_model(state_dict: dict[str, torch.Tensor], spec: ModelSpec) -> torch.nn.Module:
    model = build_model(spec)
    model.load_state_dict(state_dict)
    return model


def save_model(path: str | Path, model: torch.nn.Module, spec: ModelSpec, *,
               extra_meta: dict[str, Any] | None = None) -> None:
    """Write weights (and BN statistics) plus {"spec", "format_version", **extra_meta} in the header."""
    meta = {'format_version': FORMAT_VERSION, 'spec': json.loads(spec.to_json()), **(extra_meta or {})}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata={META_KEY: json.dumps(meta, sort_keys=True)})


def read_model_meta(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a model file, without loading the weights."""
    try:
        with safe_open(str(path), framework='pt') as f:
            header = f.metadata() or {}
    except FileNotFoundError:
        raise InputError(f'{path}: no such model file') from None
    except (SafetensorError, OSError) as exc:
        raise InputError(f'{path}: not a safetensors model file ({exc})') from None
    if META_KEY not in header:
        raise InputError(f'{path}: safetensors file without MTF-Grasp metadata')
    try:
        return json.loads(header[META_KEY])
    except json.JSONDecodeError as exc:
        raise InputError(f'{path}: bad metadata JSON ({exc})') from None


def load_model(path: str | Path, *, device: str = 'cpu') -> tuple[torch.nn.Module, ModelSpec, dict[str, Any]]:
    """(model in eval mode on `device`, spec, metadata) from a file written by `save_model`."""
    meta = read_model_meta(path)
    try:
        spec = ModelSpec.from_json(meta['spec'])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f'{path}: bad model spec in metadata ({exc})') from None
    try:
        model = state_to_model(load_file(str(path)), spec)
    except RuntimeError as exc:
        raise InputError(f'{path}: weights do not fit {spec.arch} ({str(exc).splitlines()[0]})') from None
    return model.to(device).eval(), spec, meta
