"""Grasp datasets (Cornell, Jacquard, SimGrasp) as torch Datasets of (input, four target maps)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from mtf_grasp.errors import InputError
from mtf_grasp.grasping.augment import Augmentation, warp_sample
from mtf_grasp.grasping.layouts import Layout, resolve_layout
from mtf_grasp.grasping.model_spec import ModelSpec
from mtf_grasp.grasping.protocols import CropRule
from mtf_grasp.grasping.rect import GraspRect, inside_image
from mtf_grasp.grasping.sample_files import SampleError, SampleFiles, check_same_size, read_rgb
from mtf_grasp.grasping.simgrasp import read_camera
from mtf_grasp.grasping.targets import encode_targets
from mtf_grasp.grasping.transform import ImageTransform, preprocess


@dataclass(frozen=True)
class GraspSample:
    """One sample as the camera saw it: `rgb`/`depth` are the source images, `rects` the ground truth
    in model-input pixels, `transform` maps between the two (e.g. `transform.to_source(rect)`)."""
    name: str
    rgb: np.ndarray
    depth: np.ndarray
    rects: list[GraspRect]
    category: int | None
    transform: ImageTransform

    @property
    def source_rects(self) -> list[GraspRect]:
        return [self.transform.to_source(r) for r in self.rects]


class GraspDataset(torch.utils.data.Dataset):
    """ds[i] -> (x: C×S×S float32, y: 4×S×S float32). Samples are in name order; inputs are
    preprocessed once and cached (in memory) unless `cache=False`."""

    def __init__(self, *, root: Path, layout: Layout, samples: list[tuple[SampleFiles, list[GraspRect]]],
                 categories: list[str] | None, spec: ModelSpec, augment: Augmentation | None,
                 crop: tuple[int, int, int] | CropRule | None, cache: bool, skipped: list[tuple[str, str]]):
        self.root, self.format, self.spec, self.crop = root, layout.name, spec, crop
        self._layout, self._samples, self._augment, self._cache_on = layout, samples, augment, cache
        self.categories, self.skipped = categories, skipped
        self.names = [files.name for files, _ in samples]
        self._index = {name: i for i, name in enumerate(self.names)}
        self._cache: dict[int, tuple[np.ndarray, list[GraspRect]]] = {}
        self._tensors: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]] = {}
        self._rng = np.random.default_rng(0)
        self.camera = read_camera(root) if layout.name == 'simgrasp' else None

    def __len__(self) -> int:
        return len(self._samples)

    def index_of(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise InputError(f'{self.root}: no sample named {name!r}') from None

    def category(self, i: int) -> int | None:
        return self._samples[i][0].category

    def source_rects(self, i: int) -> list[GraspRect]:
        """Ground truth in source-image pixels, as read from the grasp file (no image loading)."""
        return list(self._samples[i][1])

    def _read_images(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        files = self._samples[i][0]
        rgb = read_rgb(files.rgb)
        depth = self._layout.read_depth(files, rgb.shape[:2])
        check_same_size(rgb, depth, files)
        return rgb, depth

    def _prepare(self, rgb, depth, i: int) -> tuple[torch.Tensor, ImageTransform, list[GraspRect]]:
        try:
            crop = self.crop.crop(*rgb.shape[:2], self._samples[i][1]) if isinstance(self.crop, CropRule) \
                else self.crop
            x, transform = preprocess(rgb, depth, spec=self.spec, crop=crop)
        except ValueError as exc:
            raise SampleError(self._samples[i][0].rgb, str(exc)) from None
        rects = inside_image([transform.to_model(r) for r in self._samples[i][1]], self.spec.input_size)
        return x, transform, rects

    def load(self, i: int) -> tuple[np.ndarray, list[GraspRect]]:
        """(C×S×S input, ground truth in model pixels), without augmentation."""
        if i in self._cache:
            return self._cache[i]
        x, _, rects = self._prepare(*self._read_images(i), i)
        entry = (x.numpy(), rects)
        if self._cache_on:
            self._cache[i] = entry
        return entry

    def sample(self, i: int) -> GraspSample:
        rgb, depth = self._read_images(i)
        _, transform, rects = self._prepare(rgb, depth, i)
        return GraspSample(name=self.names[i], rgb=rgb, depth=depth, rects=rects,
                           category=self.category(i), transform=transform)

    def item(self, i: int, *, rng: np.random.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) tensors; augmented with `rng` (or the dataset's own) when augmentation is on."""
        x, rects = self.load(i)
        if self._augment is not None:
            rng = rng if rng is not None else self._rng
            x, rects = warp_sample(x, rects, self._augment.random_matrix(self.spec.input_size, rng))
            x = self._augment.photometric(x, self.spec.channels, rng)
        y = encode_targets(rects, self.spec.input_size)
        return torch.from_numpy(np.array(x, dtype=np.float32)), torch.from_numpy(y)

    @property
    def augmented(self) -> bool:
        return self._augment is not None

    def tensors(self, i: int, device: str = 'cpu') -> tuple[torch.Tensor, torch.Tensor]:
        """Unaugmented (x, y) of sample i on `device`, made once: training epochs then neither decode
        images nor draw target maps again (with caching on)."""
        key = (i, device)
        if key not in self._tensors:
            x, rects = self.load(i)
            pair = (torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device),
                    torch.from_numpy(encode_targets(rects, self.spec.input_size)).to(device))
            if not self._cache_on:
                return pair
            self._tensors[key] = pair
        return self._tensors[key]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.item(i)

    def drop_unreadable(self, *, progress: bool = False) -> None:
        """Read every sample now; leave out those with bad images and list them in `skipped`."""
        keep = []
        for i in tqdm(range(len(self)), desc='checking samples', disable=not progress, leave=False):
            try:
                self.load(i)
                keep.append(i)
            except SampleError as exc:
                self.skipped.append((exc.path, str(exc)))
        self._cache = {new: self._cache[old] for new, old in enumerate(keep) if old in self._cache}
        self._tensors.clear()
        self._samples = [self._samples[i] for i in keep]
        self.names = [self.names[i] for i in keep]
        self._index = {name: i for i, name in enumerate(self.names)}


def _parse_samples(layout: Layout, files: list[SampleFiles], skip_bad: bool,
                   skipped: list[tuple[str, str]]) -> list[tuple[SampleFiles, list[GraspRect]]]:
    kept = []
    for f in files:
        try:
            f.check_exist()
            rects = layout.read_rects(f.grasps)
            if not rects:
                raise SampleError(f.grasps, 'no grasp rectangles')
        except SampleError as exc:
            if not skip_bad:
                raise
            skipped.append((exc.path, str(exc)))
            continue
        kept.append((f, rects))
    return kept


def _spec_for(spec: ModelSpec | int | None) -> ModelSpec:
    if spec is None:
        return ModelSpec()
    return ModelSpec(input_size=spec) if isinstance(spec, int) else spec


def open_dataset(root: str | Path, *, fmt: str = 'auto', spec: ModelSpec | int | None = None,
                 augment: bool | Augmentation = False, skip_bad: bool = False, stereo_depth: bool = False,
                 crop: tuple[int, int, int] | CropRule | None = None, cache: bool = True,
                 progress: bool = False) -> GraspDataset:
    """Open a Cornell, Jacquard or SimGrasp folder (`fmt='auto'` detects it).

    `spec` (a ModelSpec, or just an input size) fixes channels and input size. Grasp files are
    parsed now, so bad ones fail at once with file:line. With `skip_bad`, every sample's images are
    also read now and bad samples are left out and listed in `ds.skipped` as (file, reason).
    `crop`: (x0, y0, side) source pixels for every sample, or an evaluation protocol's `CropRule`
    (e.g. the Cornell crop centred on each sample's ground truth); default: the centred square.
    A folder written by `pack_dataset` opens as a PackedDataset (no image decoding).
    """
    from mtf_grasp.grasping.packed import PackedDataset, is_packed

    aug = Augmentation() if augment is True else (augment or None)
    if is_packed(root):
        return PackedDataset(Path(root), spec=_spec_for(spec), augment=aug)
    root, layout = resolve_layout(root, fmt)
    files, categories = layout.find(root, stereo_depth)
    if not files:
        raise InputError(f'{root}: no {layout.name} samples found')
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f'{root}: two samples are named {dup!r}')
    skipped: list[tuple[str, str]] = []
    samples = _parse_samples(layout, files, skip_bad, skipped)
    ds = GraspDataset(root=root, layout=layout, samples=samples, categories=categories, spec=_spec_for(spec),
                      augment=aug, crop=crop, cache=cache, skipped=skipped)
    if skip_bad:
        ds.drop_unreadable(progress=progress)
    if not len(ds):
        raise InputError(f'{root}: every sample is bad ({len(skipped)} skipped)')
    return ds


def dataset_stats(root: str | Path, fmt: str = 'auto', *, skip_bad: bool = False) -> dict:
    """{"format", "samples", "grasps", "classes"} from the grasp files (no images are read);
    "classes" is the number of classes present, or None for a layout without classes (Cornell).
    With `skip_bad`, also "skipped": [{"file", "reason"}]."""
    root, layout = resolve_layout(root, fmt)
    files, categories = layout.find(root, False)
    skipped: list[tuple[str, str]] = []
    samples = _parse_samples(layout, files, skip_bad, skipped)
    present = {f.category for f, _ in samples if f.category is not None}
    stats = {'format': layout.name, 'samples': len(samples), 'grasps': sum(len(r) for _, r in samples),
             'classes': len(present) if categories is not None else None}
    if skip_bad:
        stats['skipped'] = [{'file': f, 'reason': r} for f, r in skipped]
    return stats
