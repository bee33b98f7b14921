"""Does bf16 autocast learn as well as fp32? Centralized training of the study's cpu-preset model on
the study's data, per seed, in both precisions; held-out accuracy after each epoch.

    python benchmarks/bf16_parity.py --data data/simgrasp_1300_rgbd64 --seeds 0 1 2 3 4 5 6 7 8 9 --epochs 30 \\
        --threads 2 --out docs/results/bf16_parity_xeon.json

Same seeds, same samples, same order: only the number format of the forward pass differs. The
paired difference by seed, of the final accuracy and of the mean of the last 5 epochs, shows
whether the learning curve moves beyond seed noise.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def curve(data: str, *, seed: int, precision: str, epochs: int, train: int, test: int, threads: int) -> dict:
    import torch

    from mtf_grasp.federated.partition import split_test
    from mtf_grasp.grasping import ModelSpec, build_model, evaluate, open_dataset, train_epochs

    torch.set_num_threads(threads)
    spec = ModelSpec(arch='ggcnn2', channels='rgbd', input_size=64)
    dataset = open_dataset(data, spec=spec)
    pool, held_out = split_test(dataset.names, fraction=0.0, seed=seed, count=test)
    train_idx = [dataset.index_of(n) for n in pool[:train]]
    test_idx = [dataset.index_of(n) for n in held_out]
    torch.manual_seed(seed)
    model = build_model(spec)
    accuracies = []
    start = time.perf_counter()

    def after(epoch: int, loss: float) -> None:
        accuracies.append(evaluate(model, dataset, indices=test_idx).accuracy)

    train_epochs(model, dataset, indices=train_idx, epochs=epochs, lr=1e-3, batch_size=8, seed=seed,
                 precision=precision, on_epoch=after)
    return {'seed': seed, 'precision': precision, 'accuracy_per_epoch': accuracies,
            'seconds': round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default='data/simgrasp_1300')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=15)
    parser.add_argument('--train', type=int, default=400)
    parser.add_argument('--test', type=int, default=900)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    runs = []
    for seed in args.seeds:
        for precision in ('fp32', 'bf16'):
            runs.append(curve(args.data, seed=seed, precision=precision, epochs=args.epochs, train=args.train,
                              test=args.test, threads=args.threads))
            print(json.dumps(runs[-1]), flush=True)
    from mtf_grasp.federated.statistics import paired_difference
    from mtf_grasp.grasping.device import describe_machine

    def per_seed(precision: str, last: int) -> list[float]:
        # The mean of the last epochs damps the swing from one epoch to the next that a final epoch carries.
        return [sum(r['accuracy_per_epoch'][-last:]) / last for r in runs if r['precision'] == precision]

    last = min(5, args.epochs)
    result = {'command': 'python benchmarks/bf16_parity.py ' + ' '.join(
        f'--{k} {" ".join(map(str, v)) if isinstance(v, list) else v}' for k, v in vars(args).items()),
        'cpu': describe_machine('cpu', 'fp32')['cpu'], 'runs': runs,
        'final_bf16_minus_fp32': paired_difference(per_seed('bf16', 1), per_seed('fp32', 1)),
        f'last_{last}_epochs_bf16_minus_fp32': paired_difference(per_seed('bf16', last), per_seed('fp32', last))}
    Path(args.out).write_text(json.dumps(result, indent=1) + '\n')
    print(json.dumps({k: v for k, v in result.items() if k.endswith('minus_fp32')}))


if __name__ == '__main__':
    main()
