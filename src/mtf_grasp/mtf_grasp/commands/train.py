"""`mtf-grasp train`: centralized training from a YAML config."""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser('train', help='train a grasp network centrally (model, history, learning curve)')
    p.add_argument('--config', required=True, help='training YAML, e.g. config/train.yaml')
    p.add_argument('--data', required=True, help='dataset folder (Cornell, Jacquard or SimGrasp layout)')
    p.add_argument('--out', required=True, help='output folder: model.safetensors, history.json, learning_curve.png')
    p.add_argument('--epochs', type=int, help='override the config\'s epochs')
    p.add_argument('--seed', type=int, help='override the config\'s seed')
    p.add_argument('--samples', help='training samples "A:B" in name order (overrides the config)')
    p.add_argument('--val-samples', help='held-out samples "A:B" for the learning curve (overrides the config)')
    p.add_argument('--device', help="'auto', 'cpu' or 'cuda' (overrides the config)")
    p.add_argument('--skip-bad', action='store_true', help='leave out bad samples and list them')
    p.add_argument('--json', action='store_true', help='print the summary as JSON')
    p.set_defaults(run=run)


def run(args) -> int:
    import dataclasses

    from mtf_grasp.configfile import from_mapping, load_yaml
    from mtf_grasp.grasping.train_job import TrainConfig, run_training

    cfg = from_mapping(TrainConfig, load_yaml(args.config), args.config)
    overrides = {'epochs': args.epochs, 'seed': args.seed, 'samples': args.samples,
                 'val_samples': args.val_samples, 'device': args.device, 'skip_bad': args.skip_bad or None}
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    history = run_training(cfg, args.data, args.out, progress=not args.json)
    summary = {'model': f'{args.out}/model.safetensors', 'epochs': len(history['epochs']),
               'train_samples': history['train_samples'], 'val_samples': history['val_samples'],
               'final_loss': history['epochs'][-1]['loss'] if history['epochs'] else None,
               'val_accuracy': history['final_val_accuracy'], 'seconds': history['seconds'],
               'device': history['device'], 'skipped': len(history['skipped'])}
    if args.json:
        print(json.dumps(summary))
    else:
        for file, reason in history['skipped']:
            print(f'skipped {file}: {reason}')
        print(f"trained {summary['epochs']} epochs on {summary['train_samples']} samples in "
              f"{summary['seconds']:.0f} s -> {summary['model']}")
    return 0
