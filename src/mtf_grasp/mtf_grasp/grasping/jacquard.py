"""The Jacquard layout, also used by SimGrasp: <name>_RGB.png, <name>_perfect_depth.tiff (or
_stereo_depth.tiff), <name>_grasps.txt with `x;y;θ°;opening;jaw` lines. Names are <view>_<object>."""
from __future__ import annotations

from pathlib import Path

from mtf_grasp.grasping.rect import GraspRect
from mtf_grasp.grasping.sample_files import SampleFiles, parse_floats

GRASPS_SUFFIX = '_grasps.txt'


def jacquard_files(grasps: Path, *, stereo_depth: bool, category: int | None = None) -> SampleFiles:
    name = grasps.name[:-len(GRASPS_SUFFIX)]
    depth = 'stereo_depth' if stereo_depth else 'perfect_depth'
    return SampleFiles(name=name, rgb=grasps.parent / f'{name}_RGB.png', grasps=grasps,
                       depth=grasps.parent / f'{name}_{depth}.tiff', category=category)


def object_id(name: str) -> str:
    """Jacquard names are <view>_<object id>; the object id is the sample's class."""
    return name.split('_', 1)[1] if '_' in name else name


def find_jacquard(root: Path, *, stereo_depth: bool = False) -> tuple[list[SampleFiles], list[str]]:
    grasp_files = sorted(root.rglob(f'*{GRASPS_SUFFIX}'))
    objects = sorted({object_id(g.name[:-len(GRASPS_SUFFIX)]) for g in grasp_files})
    index = {o: i for i, o in enumerate(objects)}
    samples = [jacquard_files(g, stereo_depth=stereo_depth,
                              category=index[object_id(g.name[:-len(GRASPS_SUFFIX)])]) for g in grasp_files]
    return samples, objects


def read_jacquard_rects(path: Path) -> list[GraspRect]:
    rects = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if text.strip():
            x, y, angle, opening, jaw = parse_floats(text, 5, sep=';', path=path, line=number,
                                                     expected='x;y;angle;opening;jaw')
            rects.append(GraspRect.from_jacquard(x, y, angle, opening, jaw))
    return rects
