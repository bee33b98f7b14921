"""`mtf-grasp pick-trials`: the whole pick loop on unseen simulated scenes. sim_camera,
grasp_inference and grasp_executor (sim backend) run as separate processes over DDS, from
config/pick.yaml; this command switches scenes and sends each scene's best grasp as a PickGrasp
goal. `--floating-hand` runs the same scenes, images and grasp selection in-process with the
floating-hand trial instead (what `sim-trials` does), for comparison."""
from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from mtf_grasp.commands.sim_trials import trial_seed

SCENE_TIMEOUT_S, GRASP_TIMEOUT_S, PICK_TIMEOUT_S, READY_TIMEOUT_S = 60.0, 30.0, 120.0, 120.0


def register(subparsers) -> None:
    parser = subparsers.add_parser('pick-trials', help='pick objects on unseen simulated scenes with the ROS nodes')
    parser.add_argument('--model', required=True, help='model file (.safetensors)')
    parser.add_argument('--trials', type=int, default=20, help='number of scenes (default: 20)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the trial scenes, as sim-trials (default: 0)')
    parser.add_argument('--config', default=None, help='pick plan YAML (default: the installed config/pick.yaml)')
    parser.add_argument('--real-time-factor', type=float, default=None,
                        help="override grasp_executor's real_time_factor (0: as fast as the CPU allows)")
    parser.add_argument('--no-clearance', action='store_true', help='turn the clearance check of grasp_inference off')
    parser.add_argument('--floating-hand', action='store_true',
                        help='no ROS: the same scenes and grasp selection with the floating-hand trial')
    parser.add_argument('--out', default=None, help='folder for node logs (default: a temporary one)')
    parser.add_argument('--json', action='store_true',
                        help='print {"success_rate", "trials", "failures", "mean_cycle_s", ...}')
    parser.set_defaults(run=_run)


def _config_path(args) -> Path:
    if args.config:
        return Path(args.config)
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory('mtf_grasp')) / 'config' / 'pick.yaml'


def _run(args) -> int:
    from mtf_grasp.errors import InputError
    from mtf_grasp.pick_plan import load_pick_config

    if args.trials < 1:
        raise InputError(f'--trials: must be at least 1, got {args.trials}')
    if not Path(args.model).is_file():
        raise InputError(f'--model: no such file {args.model}')
    overrides = {'camera': 'sim', 'grasp_inference': {'model_path': str(Path(args.model).resolve())},
                 'sim_camera': {'mount_camera': True}, 'grasp_executor': {'backend': 'sim'}}
    if args.real_time_factor is not None:
        overrides['grasp_executor']['real_time_factor'] = args.real_time_factor
    if args.no_clearance:
        overrides['grasp_inference']['clearance_check'] = False
    config = _config_path(args)
    cfg = load_pick_config(config, overrides=overrides)
    if cfg.sim_camera.scene_topic != cfg.grasp_executor.scene_topic or not cfg.sim_camera.scene_topic:
        raise InputError(f'{config}: sim_camera.scene_topic and grasp_executor.scene_topic must be the same topic')
    seeds = [trial_seed(args.seed, i) for i in range(args.trials)]
    started = time.monotonic()
    attempts = _floating_hand(cfg, seeds) if args.floating_hand else _over_ros(config, overrides, cfg, seeds, args)
    reasons = Counter(a.reason for a in attempts)
    cycles = [a.cycle_s for a in attempts if a.cycle_s > 0]
    report = {'success_rate': reasons['lifted'] / args.trials, 'trials': args.trials, 'successes': reasons['lifted'],
              'failures': dict(sorted((r, n) for r, n in reasons.items() if r != 'lifted')),
              'mean_cycle_s': sum(cycles) / len(cycles) if cycles else 0.0,
              'executor': 'floating_hand' if args.floating_hand else 'arm_over_ros',
              'clearance_check': cfg.grasp_inference.clearance_check,
              'real_time_factor': None if args.floating_hand else cfg.grasp_executor.real_time_factor,
              'seed': args.seed, 'model': args.model, 'wall_s': round(time.monotonic() - started, 1)}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f'success rate {report["success_rate"]:.1%} ({reasons["lifted"]}/{args.trials}); '
              f'failures: {report["failures"]}; mean cycle {report["mean_cycle_s"]:.2f} s')
    return 0


def _over_ros(config: Path, overrides: dict, cfg, seeds: list[int], args):
    import rclpy

    from mtf_grasp.nodes.pick.pick_client import PickAttempt, PickClient
    from mtf_grasp.pick_plan import pick_plan
    from mtf_grasp.supervisor import Supervisor

    specs = pick_plan(config, overrides=overrides)
    workdir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix='mtf-pick-trials-'))
    attempts = []
    rclpy.init()
    client = PickClient(namespace=cfg.namespace, scene_topic=cfg.sim_camera.scene_topic)
    try:
        with Supervisor(specs, workdir=workdir, echo=None) as supervisor:
            look = lambda: supervisor.wait(timeout=0.0, until=lambda: True)  # noqa: E731  (raises if a node died)
            if not client.wait_ready(timeout_s=READY_TIMEOUT_S, look_after=look):
                raise RuntimeError(f'grasp_executor did not serve pick within {READY_TIMEOUT_S:.0f} s (logs: {workdir})')
            for index, seed in enumerate(seeds):
                loaded_ns = client.load_scene(seed, timeout_s=SCENE_TIMEOUT_S, look_after=look)
                if loaded_ns is None:
                    raise RuntimeError(f'trial {index}: scene {seed} not acknowledged (logs: {workdir})')
                grasps = client.grasps_after(loaded_ns, timeout_s=GRASP_TIMEOUT_S, look_after=look)
                if grasps is None or not grasps.grasps:
                    attempts.append(PickAttempt(False, 'no_grasp', 0.0))
                    continue
                attempts.append(client.pick(grasps, timeout_s=PICK_TIMEOUT_S, look_after=look))
                if not args.json:
                    print(f'trial {index + 1}/{len(seeds)}: {attempts[-1].reason} ({attempts[-1].cycle_s:.2f} s)',
                          flush=True)
    finally:
        client.destroy_node()
        rclpy.try_shutdown()
    return attempts


def _floating_hand(cfg, seeds: list[int]):
    """The same scenes, camera, detector settings and clearance re-ranking; the floating hand."""
    from mtf_grasp.nodes.pick.pick_client import PickAttempt
    from mtf_grasp.perception import GraspDetector
    from mtf_grasp.perception.clearance import rerank_by_clearance
    from mtf_grasp.sim import SceneRenderer, SimScene, execute_grasp
    from mtf_grasp.sim.pick_scene import pick_scene

    inference = cfg.grasp_inference
    detector = GraspDetector.from_file(inference.model_path, settings=inference.detector_settings())
    attempts = []
    for seed in seeds:
        sim = SimScene(pick_scene(seed, extrinsics=cfg.extrinsics))
        with SceneRenderer(sim) as renderer:
            frame = renderer.render(sensor_noise=True)
        grasps = detector.detect(frame.rgb, frame.depth).grasps
        if inference.clearance_check:
            grasps = rerank_by_clearance(grasps, depth_m=frame.depth, intrinsics=frame.intrinsics,
                                         settings=inference.clearance_settings())
        if not grasps:
            attempts.append(PickAttempt(False, 'no_grasp', 0.0))
            continue
        best = grasps[0]
        result = execute_grasp(sim, center_px=(best.cx, best.cy), angle=best.angle, opening_px=best.length,
                               depth_image=frame.depth)
        attempts.append(PickAttempt(result.success, result.reason, 0.0))
    return attempts
