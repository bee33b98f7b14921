"""SimGrasp on disk: the Jacquard layout plus categories.json, camera.json and manifest.json.

Per sample `<name>_RGB.png`, `<name>_perfect_depth.tiff` (float32 metres; this is the sensor-like
depth with noise and 0.0 holes, kept under Jacquard's name so every Jacquard loader reads it) and
`<name>_grasps.txt` (`x;y;θ°;opening;jaw` per line, image pixels).
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2

from mtf_grasp.errors import InputError
from mtf_grasp.perception.intrinsics import CameraIntrinsics
from mtf_grasp.sim.labelling import LabelledScene


def sample_name(index: int, view: int = 0) -> str:
    return f'scene{index:05d}_{view}'


def write_sample(out: Path, name: str, scene: LabelledScene) -> None:
    for path, ok in ((out / f'{name}_RGB.png', cv2.imwrite(str(out / f'{name}_RGB.png'),
                                                             scene.frame.rgb[..., ::-1])),
                     (out / f'{name}_perfect_depth.tiff',
                      cv2.imwrite(str(out / f'{name}_perfect_depth.tiff'), scene.frame.depth))):
        if not ok:
            raise InputError(f'{path}: could not write')
    (out / f'{name}_grasps.txt').write_text(''.join(g.to_line() + '\n' for g in scene.grasps))


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + '\n')


def write_metadata(out: Path, *, categories: tuple[str, ...], samples: dict[str, int],
                   intrinsics: CameraIntrinsics, manifest: dict) -> None:
    _write_json(out / 'categories.json', {'categories': list(categories), 'samples': samples})
    _write_json(out / 'camera.json', intrinsics.to_dict())
    _write_json(out / 'manifest.json', manifest)


def prepare_output(out: Path, *, seed: int, scenes: int, preset: str = 'tabletop') -> Path:
    """Create the output folder. It must be new, empty, or this same dataset (same preset, seed and
    scene count, so a re-run rewrites identical files): stale samples of another run would
    otherwise be mixed in."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f'{out}: exists and is not a directory')
    if out.is_dir() and any(out.iterdir()):
        try:
            manifest = json.loads((out / 'manifest.json').read_text())
        except (OSError, ValueError):
            manifest = {}
        if not isinstance(manifest, dict) or (manifest.get('seed'), manifest.get('scenes'),
                                              manifest.get('preset', 'tabletop')) != (seed, scenes, preset):
            raise InputError(f'{out}: not empty and not a SimGrasp dataset of seed {seed} with '
                             f'{scenes} scenes (preset {preset}); choose a new or empty folder')
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f'{out}: cannot create ({exc.strerror})') from None
    return out
