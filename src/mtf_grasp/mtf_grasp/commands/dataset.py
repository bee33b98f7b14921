"""`mtf-grasp dataset generate|stats|pack`: build the SimGrasp dataset; count any dataset's contents;
pack a dataset's network inputs once into one memory-mapped file."""
from __future__ import annotations

import json
import os


def register(subparsers) -> None:
    parser = subparsers.add_parser('dataset', help='generate SimGrasp; statistics of a grasp dataset')
    verbs = parser.add_subparsers(dest='verb', required=True, metavar='VERB')

    gen = verbs.add_parser('generate', help='render SimGrasp scenes with physics-checked grasps '
                           '(Jacquard layout + categories.json, camera.json, manifest.json)')
    gen.add_argument('--out', required=True, help='output folder (created; files in it are overwritten)')
    gen.add_argument('--scenes', type=int, required=True, help='number of scenes (one view each)')
    gen.add_argument('--seed', type=int, default=0, help='random seed (default: 0); same seed, same files')
    gen.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1),
                     help='worker processes (default: min(2, CPUs))')
    gen.add_argument('--preset', default='tabletop',
                     help="'tabletop': the original scenes; 'real': boards, table edges, floor and clutter, "
                          'camera 0.4-1.2 m and tilts up to 30°, structured-light depth (docs/grasp-learning.md)')
    gen.add_argument('--json', action='store_true', help='print the manifest as JSON')
    gen.set_defaults(run=_generate)

    stats = verbs.add_parser('stats', help='samples, grasps and classes of a dataset folder')
    stats.add_argument('root', help='dataset folder')
    stats.add_argument('--format', dest='fmt', choices=('auto', 'cornell', 'jacquard', 'simgrasp'),
                       default='auto', help='layout (default: detected from the files)')
    stats.add_argument('--json', action='store_true', help='print {"format","samples","grasps","classes"}')
    stats.set_defaults(run=_stats)

    pack = verbs.add_parser('pack', help='decode and preprocess a dataset once into DIR/inputs.npy + packed.json')
    pack.add_argument('root', help='dataset folder (Cornell, Jacquard or SimGrasp)')
    pack.add_argument('--out', required=True, help='output folder; open it like any dataset folder')
    pack.add_argument('--channels', choices=('rgbd', 'depth', 'rgb'), default='rgbd', help='network input channels')
    pack.add_argument('--input-size', type=int, required=True, help='network input size in pixels')
    pack.set_defaults(run=_pack)


def _generate(args) -> int:
    from mtf_grasp.sim import generate_dataset

    manifest = generate_dataset(args.out, scenes=args.scenes, seed=args.seed, workers=args.workers,
                                preset=args.preset, progress=not args.json)
    if args.json:
        print(json.dumps(manifest, indent=2))
    else:
        print(f'wrote {manifest["samples"]} scenes with {manifest["grasps"]} grasps to {args.out}')
    return 0


def _stats(args) -> int:
    from mtf_grasp.grasping import dataset_stats

    stats = dataset_stats(args.root, args.fmt)
    if args.json:
        print(json.dumps(stats))
    else:
        print(f'{stats["format"]}: {stats["samples"]} samples, {stats["grasps"]} grasps, '
              f'{stats["classes"]} classes')
    return 0


def _pack(args) -> int:
    from mtf_grasp.grasping import ModelSpec, open_dataset
    from mtf_grasp.grasping.packed import pack_dataset

    spec = ModelSpec(channels=args.channels, input_size=args.input_size)
    out = pack_dataset(open_dataset(args.root, spec=spec), args.out, progress=True)
    print(f'packed {args.root} at {args.input_size} px {args.channels} into {out}')
    return 0
