"""`mtf-grasp demo serve|report`: the steps of `make demo` (tools/demo.sh) after the fleet run."""
from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser('demo', help="make demo's steps after the fleet: serve its final model, report")
    verbs = parser.add_subparsers(dest='verb', required=True, metavar='VERB')
    serve = verbs.add_parser('serve', help="serve a fleet run's final model on a replayed bag (bag_replayer and "
                             'grasp_inference as processes) and save the annotated images')
    serve.add_argument('--run', dest='run_dir', metavar='RUN', required=True,
                       help='fleet run directory (mtf-grasp fleet --out)')
    serve.add_argument('--bag', required=True, help='bag of held-out scenes (mtf-grasp bag from-dataset)')
    serve.add_argument('--config', default='config/replay.yaml', help='replay plan (default: config/replay.yaml)')
    serve.add_argument('--out', required=True, help='folder for grasps_NN.png')
    serve.add_argument('--timeout', type=float, default=120.0,
                       help='wait this long for every frame, then at most as long again for a first one (default: 120)')
    serve.set_defaults(run=_serve)
    report = verbs.add_parser('report', help="RUN/accuracy_per_round.png and the demo's closing summary")
    report.add_argument('--run', dest='run_dir', metavar='RUN', required=True, help='fleet run directory')
    report.add_argument('--grasps', required=True, help='folder of the annotated images')
    report.add_argument('--heldout', help="dataset folder of scenes the fleet never saw: report the final model's "
                        'accuracy there')
    report.set_defaults(run=_report)


def _serve(args) -> int:
    from mtf_grasp.demo.report import final_model
    from mtf_grasp.demo.serve import serve_and_save
    from mtf_grasp.errors import InputError
    from mtf_grasp.supervisor import NodeFailed

    model = final_model(args.run_dir)
    logs = Path(args.run_dir) / 'serve'
    try:
        served = serve_and_save(config=args.config, bag=args.bag, model=model, out_dir=args.out,
                                workdir=logs, timeout_s=args.timeout)
    except (NodeFailed, TimeoutError) as exc:
        raise InputError(f'{exc} (logs in {logs / "logs"})') from None
    lost = served.frames - len(served.images)
    print(f'grasp_inference served {model.name}: annotated images of {len(served.images)} of the '
          f'{served.frames} replayed frames in {args.out}'
          + (f' ({lost} not seen within {args.timeout:.0f} s)' if lost else ''))
    return 0


def _report(args) -> int:
    from mtf_grasp.demo.report import closing_summary, final_model, heldout_accuracy, load_summary, plot_rounds

    plot = plot_rounds(load_summary(args.run_dir), Path(args.run_dir) / 'accuracy_per_round.png')
    heldout = heldout_accuracy(final_model(args.run_dir), args.heldout) if args.heldout else None
    images = sorted(Path(args.grasps).glob('grasps_*.png'))
    print(closing_summary(run_dir=args.run_dir, images=images, plot=plot, heldout=heldout))
    return 0
