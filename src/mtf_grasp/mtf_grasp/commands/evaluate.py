"""`mtf-grasp evaluate`: rectangle-metric accuracy of a model file on a dataset."""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser('evaluate', help='top-k rectangle-metric accuracy of a model on a dataset')
    p.add_argument('--model', required=True, help='model file (.safetensors from mtf-grasp train)')
    p.add_argument('--data', required=True, help='dataset folder (Cornell, Jacquard or SimGrasp layout)')
    p.add_argument('--format', default='auto', choices=['auto', 'cornell', 'jacquard', 'simgrasp'])
    p.add_argument('--top-k', type=int, default=1, help='a sample succeeds if one of its k best grasps matches')
    p.add_argument('--samples', default=':', help='samples "A:B" in name order (default: all)')
    p.add_argument('--device', default='auto', help="'auto', 'cpu' or 'cuda'")
    p.add_argument('--backend', default='torch', choices=['torch', 'onnxruntime'],
                   help="forward-pass runtime, as grasp_inference's parameter")
    p.add_argument('--precision', default='fp32', choices=['fp32', 'bf16', 'int8'],
                   help="as grasp_inference's parameter; int8 takes its ranges from the first evaluated samples")
    p.add_argument('--stereo-depth', action='store_true', help='Jacquard: use the stereo depth images')
    p.add_argument('--skip-bad', action='store_true', help='leave out bad samples and list them')
    p.add_argument('--json', action='store_true', help='print the result as JSON')
    p.set_defaults(run=run)


def run(args) -> int:
    from mtf_grasp.errors import InputError
    from mtf_grasp.grasping import evaluate, load_model, open_dataset, resolve_device
    from mtf_grasp.grasping.selection import sample_range
    from mtf_grasp.perception.inference_backend import check_runtime

    if args.top_k < 1:
        raise InputError(f'--top-k {args.top_k}: must be at least 1')
    try:
        check_runtime(args.backend, args.precision)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    device = resolve_device(args.device)
    model, spec, meta = load_model(args.model, device=device)
    ds = open_dataset(args.data, fmt=args.format, spec=spec, skip_bad=args.skip_bad,
                      stereo_depth=args.stereo_depth, progress=not args.json)
    indices = sample_range(args.samples, len(ds))
    forward = None if (args.backend, args.precision) == ('torch', 'fp32') else \
        _node_forward(model, args.backend, args.precision, device, calibration=(ds.load(i)[0] for i in indices))
    result = evaluate(model, ds, indices=indices, top_k=args.top_k, device=device, forward=forward)
    report = {'accuracy': result.accuracy, 'samples': result.samples, 'top_k': args.top_k,
              'backend': args.backend, 'precision': args.precision,
              'format': ds.format, 'model': str(args.model), 'data': str(args.data),
              'skipped': [{'file': f, 'reason': r} for f, r in ds.skipped]}
    if args.json:
        print(json.dumps(report))
    else:
        for file, reason in ds.skipped:
            print(f'skipped {file}: {reason}')
        print(f'top-{args.top_k} accuracy {result.accuracy:.3f} on {result.samples} {ds.format} samples')
    return 0


def _node_forward(model, backend: str, precision: str, device: str, *, calibration):
    """The forward pass grasp_inference would run; int8 is calibrated on the first inputs of
    `calibration` (as the node is on its first frames)."""
    from itertools import islice

    from mtf_grasp.errors import InputError
    from mtf_grasp.perception import DetectorSettings, GraspDetector

    try:   # checked already, except what the hardware cannot run (bf16 without AVX512-BF16 or AMX)
        detector = GraspDetector(model, version=0, settings=DetectorSettings(backend=backend, precision=precision,
                                                                            device=device))
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if detector.calibrating:
        frames = detector.settings.calibration_frames
        detector = detector.calibrated([x[None] for x in islice(calibration, frames)])
    return detector.forward
