"""A dataset decoded and preprocessed once: its network inputs in one memory-mapped array.

`mtf-grasp dataset pack ROOT --out DIR` writes DIR/packed.json (source, channels, input size,
crop, categories, each sample's name, class and rectangles) and DIR/inputs.npy (N×C×S×S float16).
`open_dataset(DIR)` reads it back as a dataset of the same interface, without decoding an image:
study workers map one file instead of each decoding the images, and a pack of 1300 scenes at
64 px is small enough to travel. float16 keeps inputs to 3 significant digits (relative error
≤ 2^-11); a run on a pack is repeatable, but not bit-equal to one on the source images.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from mtf_grasp.configfile import load_json_object
from mtf_grasp.errors import InputError
from mtf_grasp.grasping.dataset import GraspDataset
from mtf_grasp.grasping.layouts import Layout
from mtf_grasp.grasping.rect import GraspRect
from mtf_grasp.grasping.sample_files import SampleFiles

PACK_FILE = 'packed.json'
INPUTS_FILE = 'inputs.npy'
PACK_FORMAT = 'mtf-grasp-packed-1'


def _rows(rects: list[GraspRect]) -> list[list[float]]:
    return [[r.cx, r.cy, r.angle, r.length, r.jaw, r.quality] for r in rects]


def pack_dataset(dataset: GraspDataset, out: str | Path, *, progress: bool = False) -> Path:
    """Write `dataset`'s unaugmented inputs and rectangles to `out`; returns the folder."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    first, _ = dataset.load(0)
    inputs = np.lib.format.open_memmap(out / INPUTS_FILE, mode='w+', dtype=np.float16,
                                       shape=(len(dataset), *first.shape))
    samples = []
    for i in tqdm(range(len(dataset)), desc='packing', disable=not progress, leave=False):
        x, rects = dataset.load(i)
        inputs[i] = x
        samples.append({'name': dataset.names[i], 'category': dataset.category(i), 'rects': _rows(rects),
                        'source_rects': _rows(dataset.source_rects(i))})
    inputs.flush()
    meta = {'format': PACK_FORMAT, 'source': str(dataset.root), 'source_format': dataset.format,
            'channels': dataset.spec.channels, 'input_size': dataset.spec.input_size,
            'depth_ref': dataset.spec.depth_ref, 'crop': list(dataset.crop) if dataset.crop else None, 'categories': dataset.categories,
            'samples': samples}
    (out / PACK_FILE).write_text(json.dumps(meta) + '\n')
    return out


def _unreadable(*_args):
    raise InputError('a packed dataset holds network inputs, not camera images')


_LAYOUT = Layout('packed', _unreadable, _unreadable, _unreadable)


class PackedDataset(GraspDataset):
    """A pack as a GraspDataset: `load` reads the mapped inputs; `sample` (camera images) is refused."""

    def __init__(self, root: Path, *, spec, augment):
        meta = load_json_object(root / PACK_FILE, missing='no packed.json')
        if meta.get('format') != PACK_FORMAT:
            raise InputError(f'{root / PACK_FILE}: format {meta.get("format")!r} is not {PACK_FORMAT!r}')
        meta.setdefault('depth_ref', 'mean')     # packs written before depth_ref existed
        for field in ('channels', 'input_size', 'depth_ref'):
            if meta[field] != getattr(spec, field):
                raise InputError(f'{root / PACK_FILE}: packed with {field} {meta[field]!r}, the model needs '
                                 f'{getattr(spec, field)!r}; pack the source again')
        entries = meta['samples']
        samples = [(SampleFiles(name=e['name'], rgb=root / INPUTS_FILE, grasps=root / PACK_FILE,
                                category=e['category']), [GraspRect(*r) for r in e['source_rects']])
                   for e in entries]
        super().__init__(root=root, layout=_LAYOUT, samples=samples, categories=meta['categories'], spec=spec,
                         augment=augment, crop=tuple(meta['crop']) if meta['crop'] else None, cache=True,
                         skipped=[])
        self.source = meta['source']
        self._inputs = np.load(root / INPUTS_FILE, mmap_mode='r')
        if self._inputs.shape[0] != len(entries):
            raise InputError(f'{root / INPUTS_FILE}: {self._inputs.shape[0]} inputs for {len(entries)} samples')
        self._rects = [[GraspRect(*r) for r in e['rects']] for e in entries]

    def load(self, i: int) -> tuple[np.ndarray, list[GraspRect]]:
        return np.asarray(self._inputs[i], dtype=np.float32), self._rects[i]

    def _read_images(self, i: int):
        raise InputError(f'{self.root}: a packed dataset holds network inputs, not camera images '
                         f'(they are in {self.source})')


def is_packed(root: str | Path) -> bool:
    return (Path(root) / PACK_FILE).is_file()
