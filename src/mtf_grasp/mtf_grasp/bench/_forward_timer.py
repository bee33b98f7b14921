"""The bare forward of `bench inference`, in its own idle process like the node's forward.

Run in the bench process, which also plays the camera and the consumer, a forward pass slowed
that process's next receipt of a grasp array from ~0.7 to ~2 ms and so inflated the node's
figure (measured on two cores). Protocol on stdin/stdout, one line each: it answers `ready` or
`error: <reason>` once, then the forward's time in ms for every line it reads.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mtf_grasp.errors import InputError


def bare_forward(model_path: Path, *, runtime: dict, size: int):
    """A callable running the network alone on one preprocessed test frame."""
    from mtf_grasp.bench.inference import bench_frame
    from mtf_grasp.perception import DetectorSettings, GraspDetector

    detector = GraspDetector.from_file(model_path, settings=DetectorSettings(**runtime))
    if detector.spec.input_size != size:
        raise ValueError(f'--model: input size {detector.spec.input_size} differs from --size {size}')
    rgb, depth = bench_frame(size)
    x, _ = detector.preprocess(rgb, depth.astype('float32') / 1000)
    if detector.calibrating:   # int8: the node calibrates on its first frames, all this same frame
        detector = detector.calibrated([x] * detector.settings.calibration_frames)
    return lambda: detector.forward(x)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='mtf_grasp.bench._forward_timer')
    parser.add_argument('model', type=Path)
    parser.add_argument('--backend', required=True)
    parser.add_argument('--threads', type=int, required=True)
    parser.add_argument('--precision', required=True)
    parser.add_argument('--size', type=int, required=True)
    args = parser.parse_args(argv)
    try:
        forward = bare_forward(args.model, size=args.size,
                               runtime={'backend': args.backend, 'threads': args.threads, 'precision': args.precision})
        forward()    # first-run allocations and kernel choices are not the steady state
    except (InputError, ValueError) as exc:   # a bad model file, or a backend/precision that cannot run here
        print(f'error: {exc}', flush=True)
        return 2
    print('ready', flush=True)
    for _ in sys.stdin:
        start = time.perf_counter()
        forward()
        print(f'{(time.perf_counter() - start) * 1e3:.4f}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
