"""Local training throughput: samples per second of one robot's epoch, as the federated runner trains.

Each configuration runs in a fresh process (no shared caches or thread pools), on the first
`--samples` scenes of `--data` (their inputs made once, as in a round), for `--epochs` timed epochs
after one untimed epoch. Several `--precision` values are measured side by side in one run.
"""
from __future__ import annotations

import json
import subprocess
import sys

from mtf_grasp.errors import InputError

DEFAULT_DATA = 'data/simgrasp_1300'


def add_arguments(parser) -> None:
    parser.add_argument('--data', default=DEFAULT_DATA, help='dataset folder or pack (default: %(default)s)')
    parser.add_argument('--arch', default='grconvnet', choices=('grconvnet', 'ggcnn2'))
    parser.add_argument('--channels', default='rgbd', choices=('rgbd', 'depth', 'rgb'))
    parser.add_argument('--width', type=int, default=16, help="GR-ConvNet width (16: 'lite')")
    parser.add_argument('--input-size', type=int, default=112)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--precision', default='fp32,bf16', help='comma list of fp32, bf16, auto')
    parser.add_argument('--samples', type=int, default=96, help='samples per epoch')
    parser.add_argument('--epochs', type=int, default=3, help='timed epochs (after one untimed)')
    parser.add_argument('--threads', type=int, default=2, help='torch threads')
    parser.add_argument('--device', default='cpu')


def measure(args: dict) -> dict:
    """One configuration, in this process: the figures of `run`'s entries."""
    import time

    import torch

    from mtf_grasp.grasping import ModelSpec, build_model, open_dataset, train_epochs
    from mtf_grasp.grasping.device import resolve_precision

    torch.set_num_threads(args['threads'])
    spec = ModelSpec(arch=args['arch'], channels=args['channels'], width=args['width'], input_size=args['input_size'])
    dataset = open_dataset(args['data'], spec=spec)
    if len(dataset) < args['samples']:
        raise InputError(f"{args['data']}: {len(dataset)} samples, --samples asks for {args['samples']}")
    indices = list(range(args['samples']))
    model = build_model(spec)
    common = dict(indices=indices, lr=1e-3, batch_size=args['batch_size'], seed=0, device=args['device'],
                  precision=args['precision'])
    train_epochs(model, dataset, epochs=1, **common)   # untimed: makes the inputs, warms the kernels
    start = time.perf_counter()
    stats = train_epochs(model, dataset, epochs=args['epochs'], **common)
    seconds = time.perf_counter() - start
    return {'samples_per_s': round(args['samples'] * args['epochs'] / seconds, 2), 'arch': args['arch'],
            'channels': args['channels'], 'input_size': args['input_size'], 'batch_size': args['batch_size'],
            'precision': resolve_precision(args['precision'], args['device']), 'threads': torch.get_num_threads(),
            'device': args['device'], 'width': args['width'] if args['arch'] == 'grconvnet' else None,
            'mean_loss': round(stats.mean_loss, 4)}


def run(args) -> dict:
    precisions = [p.strip() for p in args.precision.split(',') if p.strip()]
    runs = []
    for precision in precisions:
        config = {k: getattr(args, k) for k in ('data', 'arch', 'channels', 'width', 'input_size', 'batch_size',
                                                'samples', 'epochs', 'threads', 'device')}
        config['precision'] = precision
        done = subprocess.run([sys.executable, '-m', 'mtf_grasp.bench.train', json.dumps(config)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise InputError(f'bench train ({precision}): {done.stderr.strip().splitlines()[-1]}')
        runs.append(json.loads(done.stdout))
    if len(runs) == 1:
        return runs[0]
    base = runs[0]['samples_per_s']
    return {'runs': runs, 'speedup_vs_first': [round(r['samples_per_s'] / base, 2) for r in runs]}


if __name__ == '__main__':
    print(json.dumps(measure(json.loads(sys.argv[1]))))
