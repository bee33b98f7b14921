"""`mtf-grasp export-onnx`: a model file to ONNX, checked against torch with onnxruntime."""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser('export-onnx', help='export a model to ONNX and check it against torch')
    p.add_argument('--model', required=True, help='model file (.safetensors)')
    p.add_argument('--out', required=True, help='ONNX file to write')
    p.add_argument('--tolerance', type=float, default=1e-4, help='largest allowed |onnx - torch| (default 1e-4)')
    p.add_argument('--json', action='store_true', help='print the result as JSON')
    p.set_defaults(run=run)


def run(args) -> int:
    from mtf_grasp.grasping import load_model
    from mtf_grasp.grasping.onnx_export import export_onnx, onnx_max_difference

    model, spec, _ = load_model(args.model)
    export_onnx(model, spec, args.out)
    diff = onnx_max_difference(model, spec, args.out)
    ok = diff <= args.tolerance
    if args.json:
        print(json.dumps({'onnx': str(args.out), 'max_abs_diff': diff, 'tolerance': args.tolerance, 'ok': ok}))
    else:
        print(f'{args.out}: max abs diff onnxruntime vs torch {diff:.3g} '
              f'({"within" if ok else "OVER"} tolerance {args.tolerance:g})')
    return 0 if ok else 1
