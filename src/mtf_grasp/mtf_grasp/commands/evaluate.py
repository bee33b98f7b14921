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
    p.add_argument('--protocol', default='deploy', choices=['deploy', 'cornell', 'jacquard'],
                   help="crop: 'deploy' = the inference node's fixed crop (--crop-*) and workspace; 'cornell' = a "
                        "--crop-size square centred on the ground truth (GR-ConvNet/GG-CNN); 'jacquard' = the "
                        'whole image (docs/grasp-learning.md)')
    p.add_argument('--crop-size', type=int, help='crop side in source pixels (cornell: default 224, GG-CNN uses 300; '
                                                  'deploy: default 0 = the centred largest square)')
    p.add_argument('--crop-x0', type=int, default=0, help='deploy: left edge of the crop (px)')
    p.add_argument('--crop-y0', type=int, default=0, help='deploy: top edge of the crop (px)')
    p.add_argument('--split', choices=['image-wise', 'object-wise'],
                   help='evaluate only the test fold of this split (default: every selected sample)')
    p.add_argument('--fold', type=int, default=0, help='with --split: the test fold, 0-based')
    p.add_argument('--folds', type=int, default=5, help='with --split: number of folds')
    p.add_argument('--workspace-roi', help='deploy: region "x0,y0,x1,y1" (source px, x1/y1 exclusive) grasps must lie in')
    p.add_argument('--min-height', type=float, help='deploy: depth band, metres above the support surface '
                                                    '(default as the node: 0.01)')
    p.add_argument('--max-height', type=float, help='deploy: depth band top, metres above the support surface; '
                                                    'sets the band on (default as the node: 0 = off)')
    p.add_argument('--edge-margin', type=float, help="deploy: no grasp centred within this fraction of the crop's "
                                                     'side from its edges (default as the node: 0 = none)')
    p.add_argument('--clearance', action='store_true',
                   help="deploy: re-rank the node's top_k candidates by grasp_inference's depth clearance check "
                        '(its default margin and blocked share) before scoring the first --top-k')
    p.add_argument('--intrinsics', help='with --clearance: "fx,fy,cx,cy" of the depth camera in source pixels '
                                        "(default: the dataset's camera.json, which SimGrasp has)")
    p.add_argument('--device', default='auto', help="'auto', 'cpu' or 'cuda'")
    p.add_argument('--backend', default='torch', choices=['torch', 'onnxruntime'],
                   help="forward-pass runtime, as grasp_inference's parameter")
    p.add_argument('--precision', default='fp32', choices=['fp32', 'bf16', 'int8'],
                   help="as grasp_inference's parameter; int8 takes its ranges from the first evaluated samples")
    p.add_argument('--stereo-depth', action='store_true', help='Jacquard: use the stereo depth images')
    p.add_argument('--skip-bad', action='store_true', help='leave out bad samples and list them')
    p.add_argument('--json', action='store_true', help='print the result as JSON')
    p.set_defaults(run=run)


def _workspace(args):
    from mtf_grasp.errors import InputError
    from mtf_grasp.perception.workspace import WorkspaceSettings

    given = [f'--{n}' for n, v in (('workspace-roi', args.workspace_roi), ('min-height', args.min_height),
                                   ('max-height', args.max_height), ('edge-margin', args.edge_margin)) if v is not None]
    if args.protocol != 'deploy':
        if given:
            raise InputError(f'{given[0]}: a workspace belongs to the deploy protocol, not {args.protocol}')
        return WorkspaceSettings()
    roi = None
    if args.workspace_roi is not None:
        try:
            roi = tuple(int(v) for v in args.workspace_roi.split(','))
            if len(roi) != 4:
                raise ValueError
        except ValueError:
            raise InputError(f'--workspace-roi {args.workspace_roi!r}: expected x0,y0,x1,y1 in pixels') from None
    defaults = WorkspaceSettings()
    try:
        return WorkspaceSettings(roi=roi, min_height_m=defaults.min_height_m if args.min_height is None
                                 else args.min_height,
                                 max_height_m=defaults.max_height_m if args.max_height is None else args.max_height,
                                 edge_margin=defaults.edge_margin if args.edge_margin is None else args.edge_margin)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def run(args) -> int:
    from mtf_grasp.errors import InputError
    from mtf_grasp.grasping import (CropRule, evaluate, evaluate_frames, load_model, open_dataset, resolve_device,
                                    split_indices)
    from mtf_grasp.grasping.selection import sample_range
    from mtf_grasp.perception.inference_backend import check_runtime
    from mtf_grasp.perception.node_settings import InferenceConfig

    if args.top_k < 1:
        raise InputError(f'--top-k {args.top_k}: must be at least 1')
    try:
        check_runtime(args.backend, args.precision)
        rule = CropRule.for_protocol(args.protocol, side=args.crop_size, x0=args.crop_x0, y0=args.crop_y0)
    except ValueError as exc:
        raise InputError(f'--protocol {args.protocol}: {exc}') from exc
    workspace = _workspace(args)
    if args.clearance and args.protocol != 'deploy':
        raise InputError(f'--clearance: the clearance check belongs to the deploy protocol, not {args.protocol}')
    device = resolve_device(args.device)
    model, spec, meta = load_model(args.model, device=device)
    ds = open_dataset(args.data, fmt=args.format, spec=spec, skip_bad=args.skip_bad,
                      stereo_depth=args.stereo_depth, crop=rule, progress=not args.json)
    indices = sample_range(args.samples, len(ds))
    if args.split is not None:
        try:
            indices = [indices[i] for i in split_indices(len(indices), split=args.split, fold=args.fold,
                                                         folds=args.folds)]
        except ValueError as exc:
            raise InputError(f'--split {args.split} --fold {args.fold} --folds {args.folds}: {exc}') from None
    if args.protocol == 'deploy':
        candidates = max(args.top_k, InferenceConfig.top_k) if args.clearance else args.top_k
        detector = node_detector(model, args.backend, args.precision, device, top_k=candidates,
                                  crop=rule.fixed_crop, workspace=workspace,
                                  calibration=(ds.load(i)[0] for i in indices))
        detect = (_clear_first(detector, _intrinsics(args, ds)) if args.clearance
                  else lambda sample: detector.detect(sample.rgb, sample.depth).grasps)
        result = evaluate_frames(detect, ds, indices=indices, top_k=args.top_k)
    else:
        forward = None if (args.backend, args.precision) == ('torch', 'fp32') else \
            node_detector(model, args.backend, args.precision, device, top_k=args.top_k,
                           calibration=(ds.load(i)[0] for i in indices)).forward
        result = evaluate(model, ds, indices=indices, top_k=args.top_k, device=device, forward=forward)
    report = {'accuracy': result.accuracy, 'samples': result.samples, 'top_k': args.top_k,
              'protocol': args.protocol, 'crop_size': rule.side,
              'clearance': {'candidates': candidates, 'margin_m': InferenceConfig.clearance_margin_m,
                            'max_blocked': InferenceConfig.clearance_max_blocked} if args.clearance else None,
              'workspace': {'roi': workspace.roi, 'min_height_m': workspace.min_height_m,
                            'max_height_m': workspace.max_height_m, 'edge_margin': workspace.edge_margin}
              if workspace.active else None,
              'split': None if args.split is None else {'split': args.split, 'fold': args.fold, 'folds': args.folds},
              'backend': args.backend, 'precision': args.precision,
              'format': ds.format, 'model': str(args.model), 'data': str(args.data),
              'successes': [ds.names[i] for i, ok in zip(indices, result.successes) if ok],
              'skipped': [{'file': f, 'reason': r} for f, r in ds.skipped]}
    if args.json:
        print(json.dumps(report))
    else:
        for file, reason in ds.skipped:
            print(f'skipped {file}: {reason}')
        print(f'top-{args.top_k} accuracy {result.accuracy:.3f} on {result.samples} {ds.format} samples '
              f'({args.protocol} protocol)')
    return 0


def _intrinsics(args, ds):
    """The camera the clearance check deprojects with: --intrinsics, else the dataset's camera.json."""
    from mtf_grasp.errors import InputError
    from mtf_grasp.perception.intrinsics import CameraIntrinsics

    if args.intrinsics is None:
        if ds.camera is None:
            raise InputError(f'--clearance: {args.data} has no camera.json; give --intrinsics fx,fy,cx,cy')
        return CameraIntrinsics(**{k: ds.camera[k] for k in ('fx', 'fy', 'cx', 'cy', 'width', 'height')})
    try:
        fx, fy, cx, cy = (float(v) for v in args.intrinsics.split(','))
        if fx <= 0 or fy <= 0:
            raise ValueError
    except ValueError:
        raise InputError(f'--intrinsics {args.intrinsics!r}: expected fx,fy,cx,cy with positive focal lengths') from None
    return CameraIntrinsics(fx=fx, fy=fy, cx=cx, cy=cy, width=0, height=0)


def _clear_first(detector, intrinsics):
    """A detect function returning the detector's grasps re-ranked by clearance, as grasp_inference
    publishes them with clearance_check on (its default margin and blocked share)."""
    from mtf_grasp.perception.clearance import rerank_by_clearance
    from mtf_grasp.perception.node_settings import InferenceConfig

    settings = InferenceConfig().clearance_settings()
    return lambda sample: rerank_by_clearance(detector.detect(sample.rgb, sample.depth).grasps,
                                              depth_m=sample.depth, intrinsics=intrinsics, settings=settings)


def node_detector(model, backend: str, precision: str, device: str, *, top_k: int, calibration,
                  crop=None, workspace=None):
    """The detector grasp_inference would run; int8 is calibrated on the first inputs of
    `calibration` (as the node is on its first frames)."""
    from itertools import islice

    from mtf_grasp.errors import InputError
    from mtf_grasp.perception import DetectorSettings, GraspDetector, WorkspaceSettings

    try:   # checked already, except what the hardware cannot run (bf16 without AVX512-BF16 or AMX)
        detector = GraspDetector(model, version=0, settings=DetectorSettings(
            backend=backend, precision=precision, device=device, max_grasps=top_k, crop=crop,
            workspace=workspace or WorkspaceSettings()))
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if detector.calibrating:
        frames = detector.settings.calibration_frames
        detector = detector.calibrated([x[None] for x in islice(calibration, frames)])
    return detector
