"""`mtf-grasp sim-trials`: a model's best grasp executed by a simulated two-finger gripper on
unseen MuJoCo scenes; the share lifted is the success rate."""
from __future__ import annotations

import json
from collections import Counter

# Trial scenes draw from SeedSequence([seed, i, 0, TRIALS_TAG]); the SimGrasp generator uses
# [seed, index, attempt], so trial scenes never repeat a generated (training) scene.
TRIALS_TAG = 0x7121A15


def register(subparsers) -> None:
    parser = subparsers.add_parser('sim-trials', help="execute a model's top grasp on unseen simulated scenes")
    parser.add_argument('--model', required=True, help='model file (.safetensors)')
    parser.add_argument('--trials', type=int, default=50, help='number of scenes (default: 50)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the trial scenes (default: 0)')
    parser.add_argument('--backend', choices=('torch', 'onnxruntime'), default='torch')
    parser.add_argument('--no-noise', action='store_true', help='render perfect depth instead of RealSense-like')
    parser.add_argument('--json', action='store_true',
                        help='print {"success_rate", "trials", "successes", "reasons", "seed", "model"}')
    parser.set_defaults(run=_run)


def trial_seed(seed: int, index: int) -> int:
    import numpy as np

    return int(np.random.SeedSequence([seed, index, 0, TRIALS_TAG]).generate_state(1)[0])


def _run(args) -> int:
    from tqdm import tqdm

    from mtf_grasp.errors import InputError
    from mtf_grasp.perception import DetectorSettings, GraspDetector
    from mtf_grasp.sim import SceneRenderer, SimScene, execute_grasp, random_scene

    if args.trials < 1:
        raise InputError(f'--trials: must be at least 1, got {args.trials}')
    detector = GraspDetector.from_file(args.model, settings=DetectorSettings(backend=args.backend, max_grasps=1))
    reasons = Counter()
    for index in tqdm(range(args.trials), desc='sim trials', unit='trial', disable=args.json):
        sim = SimScene(random_scene(trial_seed(args.seed, index)))
        with SceneRenderer(sim) as renderer:
            frame = renderer.render(sensor_noise=not args.no_noise)
        grasps = detector.detect(frame.rgb, frame.depth).grasps
        if not grasps:
            reasons['no_grasp'] += 1
            continue
        best = grasps[0]
        result = execute_grasp(sim, center_px=(best.cx, best.cy), angle=best.angle, opening_px=best.length,
                               depth_image=frame.depth)
        reasons[result.reason] += 1
    successes = reasons['lifted']
    report = {'success_rate': successes / args.trials, 'trials': args.trials, 'successes': successes,
              'reasons': dict(sorted(reasons.items())), 'seed': args.seed, 'model': args.model}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f'success rate {report["success_rate"]:.1%} ({successes}/{args.trials}); reasons: {report["reasons"]}')
    return 0
