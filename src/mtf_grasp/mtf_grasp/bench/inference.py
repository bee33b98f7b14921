"""End-to-end grasp_inference latency (frame published -> grasp array received) against the bare forward.

"Received" is when the grasp array reached this process's DDS reader (its MessageInfo
`received_timestamp`), not when rclpy's Python executor got round to the callback: that dispatch
(0.5-0.6 ms here) is the consumer's cost, and a C++ consumer would not pay it. It is still reported,
as `callback_p50_ms`. "Published" is when the colour image, the frame's last message, is handed to
rclpy (its depth and camera_info went out just before): from then on the frame is the node's.

The node runs as its own process, exactly as deployed; this process plays the camera and the
consumer, and a third process (`_forward_timer`) times the bare forward of the same model on the
same backend. Frames go one at a time (the next once the previous is answered), so the latency has
no queueing in it; `hz` is the closed-loop rate, 1000 / mean latency. After each answered frame the
bare forward is timed while the node is idle, so both figures see the same background load on a
shared machine. Every step first waits until the other side's workers have parked, and no longer
(`SETTLE_S`, per backend). Onnxruntime parks its threads when a run ends (`force_spinning_stop`);
torch's OpenMP workers spin for about 10 ms of CPU after a forward pass and steal the cores the
other side is being timed on (after a 15 ms pause the bare forward still read 1-1.5 ms slow).
Longer pauses let the machine go cold, which a node at camera rate never does: after 10 ms idle
the DDS hop of an RGB-D pair into the node took 1.34 instead of 0.78 ms (a plain socket pair:
+0.05 ms), and after 0.25 s idle an onnxruntime forward took ~3 ms longer.
"""
from __future__ import annotations

import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mtf_grasp.errors import InputError

SETTLE_S = {'onnxruntime': 0.005, 'torch': 0.05}


def add_arguments(parser) -> None:
    parser.add_argument('--backend', choices=('torch', 'onnxruntime'), default='torch')
    parser.add_argument('--model', default=None, help='model file (default: GR-ConvNet --width at --size, untrained)')
    parser.add_argument('--size', type=int, default=224, help='camera image side = model input side (px)')
    parser.add_argument('--width', type=int, default=16, help='GR-ConvNet width of the default model')
    parser.add_argument('--threads', type=int, default=0, help='CPU threads of the forward pass (0: one per core)')
    parser.add_argument('--precision', choices=('fp32', 'bf16', 'int8'), default='fp32',
                        help='number format of the forward pass (bf16: torch backend; int8: onnxruntime, '
                             'timed once the node has calibrated)')
    parser.add_argument('--frames', type=int, default=60, help='timed frames')
    parser.add_argument('--warmup', type=int, default=10, help='untimed frames first')
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds to wait for the node')
    parser.add_argument('--breakdown', action='store_true',
                        help="also report the node's median time per step (its ~/timing topic) as node_steps_p50_ms")


def run(args) -> dict:
    if args.frames < 1 or args.warmup < 0:
        raise InputError(f'--frames must be >= 1 and --warmup >= 0, got {args.frames}, {args.warmup}')
    # The node's parameters and the bare forward's settings: the same runtime on both sides.
    runtime = {'backend': args.backend, 'threads': args.threads, 'precision': args.precision}
    with tempfile.TemporaryDirectory(prefix='mtf-bench-inference-') as tmp:
        model_path = Path(args.model) if args.model else _default_model(Path(tmp), size=args.size, width=args.width)
        with ForwardTimer(model_path, runtime=runtime, size=args.size, timeout_s=args.timeout) as forward:
            measured = _measure(model_path, forward=forward, runtime=runtime, size=args.size, frames=args.frames,
                                warmup=args.warmup, timeout_s=args.timeout, workdir=Path(tmp), breakdown=args.breakdown)
    latency_ms, callback_ms, forward_ms = measured.latencies, measured.callbacks, measured.forwards
    p50, forward_p50 = _percentile(latency_ms, 50), _percentile(forward_ms, 50)
    figures = {**runtime, 'size': args.size, 'frames': len(latency_ms),
               'p50_ms': round(p50, 2), 'p99_ms': round(_percentile(latency_ms, 99), 2),
               'hz': round(1000.0 * len(latency_ms) / sum(latency_ms), 2), 'forward_p50_ms': round(forward_p50, 2),
               'callback_p50_ms': round(_percentile(callback_ms, 50), 2),
               'overhead_ratio': round(p50 / forward_p50 - 1.0, 3)}
    if args.breakdown:
        figures['node_steps_p50_ms'] = _step_medians(measured.steps, latency_ms)
    return figures


def _step_medians(steps: list[dict[str, float]], latency_ms: list[float]) -> dict[str, float]:
    """Median ms of each node step over the timed frames, and of `transport`: the rest of each
    frame's latency (publishing the frame here, DDS both ways). `dispatch` is missing where the
    node's RMW reports no reception times."""
    from mtf_grasp.perception import STEPS

    medians = {step: round(_percentile([s[step] for s in steps], 50), 2)
               for step in STEPS if all(step in s for s in steps)}
    rest = [latency - sum(s.values()) for s, latency in zip(steps, latency_ms)]
    return {**medians, 'transport': round(_percentile(rest, 50), 2)}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _default_model(tmp: Path, *, size: int, width: int) -> Path:
    import torch

    from mtf_grasp.grasping import ModelSpec, build_model, save_model

    torch.manual_seed(0)
    spec = ModelSpec(width=width, input_size=size)
    path = tmp / 'bench_model.safetensors'
    save_model(path, build_model(spec), spec, extra_meta={'version': 1})
    return path


def bench_frame(size: int):
    """A table with a box: the same content every frame, so every frame costs the same."""
    import numpy as np

    rgb = np.full((size, size, 3), 100, np.uint8)
    depth = np.full((size, size), 600, np.uint16)
    box = slice(size // 3, 2 * size // 3), slice(size // 2 - size // 10, size // 2 + size // 10)
    rgb[box], depth[box] = (200, 50, 50), 550
    return rgb, depth


class ForwardTimer:
    """The `_forward_timer` process as a context manager; calling it times one bare forward (ms)."""

    def __init__(self, model_path: Path, *, runtime: dict, size: int, timeout_s: float):
        argv = [sys.executable, '-m', 'mtf_grasp.bench._forward_timer', str(model_path), '--size', str(size),
                *(f'--{key}={value}' for key, value in runtime.items())]
        self._timeout_s = timeout_s
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __enter__(self) -> 'ForwardTimer':
        first = self._reply()
        if first != 'ready':
            self.__exit__()
            raise InputError(first.removeprefix('error: ') or 'the forward timer exited before it was ready')
        return self

    def __call__(self) -> float:
        self._proc.stdin.write('\n')
        self._proc.stdin.flush()
        reply = self._reply()
        if not reply:
            raise RuntimeError(f'the forward timer exited with code {self._proc.wait()}')
        return float(reply)

    def _reply(self) -> str:
        ready, _, _ = select.select([self._proc.stdout], [], [], self._timeout_s)
        if not ready:
            raise RuntimeError(f'the forward timer did not answer within {self._timeout_s:.0f} s')
        return self._proc.stdout.readline().strip()

    def __exit__(self, *exc) -> None:
        self._proc.stdin.close()     # the timer's loop ends at end of input
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@dataclass
class Measurement:
    """Per timed frame, in ms: end-to-end latency to DDS reception, the same to the callback, the
    bare forward timed right after, and the node's step times (only with --breakdown)."""

    latencies: list[float] = field(default_factory=list)
    callbacks: list[float] = field(default_factory=list)
    forwards: list[float] = field(default_factory=list)
    steps: list[dict[str, float]] = field(default_factory=list)


class _FrameLoop:
    """This process as camera and consumer of one grasp_inference node: frames go out one at a time,
    each answered before the next, with a bare forward timed in between."""

    def __init__(self, *, forward, runtime: dict, size: int, breakdown: bool):
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, Image

        from mtf_grasp.perception import CameraIntrinsics, stamp_to_ns, topics
        from mtf_grasp_interfaces.msg import GraspArray

        self._stamp_to_ns = stamp_to_ns     # the callbacks' own: no import on the timed path
        self._forward, self._breakdown = forward, breakdown
        self.precision = runtime['precision']
        self._settle_s = SETTLE_S[runtime['backend']]
        self._rgb, self._depth = bench_frame(size)
        self._intrinsics = CameraIntrinsics(fx=size * 0.9, fy=size * 0.9, cx=(size - 1) / 2, cy=(size - 1) / 2,
                                            width=size, height=size)
        self.index = 0
        self.answered: dict[int, tuple[int, int]] = {}   # stamp -> (DDS reception, callback) in ns, system clock
        # The node's ~/timing: the step times for --breakdown, and for int8 which precision served each
        # frame (the node calibrates on its first frames, then swaps int8 in).
        self.steps: dict[int, dict[str, float]] = {}
        self.precisions: dict[int, str] = {}
        qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        rclpy.init()
        self.node = rclpy.create_node('inference_bench', namespace='bench')
        self.node.create_subscription(GraspArray, topics.GRASPS, self._on_grasps, qos)
        self.watch_timing = breakdown or self.precision == 'int8'
        timing_topic = f'grasp_inference/{topics.FRAME_TIMING.removeprefix("~/")}'
        self._timing = (self.node.create_subscription(DiagnosticArray, timing_topic, self._on_timing, 10)
                        if self.watch_timing else None)
        self._color = self.node.create_publisher(Image, topics.COLOR, qos)
        self._depth_pub = self.node.create_publisher(Image, topics.DEPTH, qos)
        self._info = self.node.create_publisher(CameraInfo, topics.CAMERA_INFO, qos)

    def close(self) -> None:
        import rclpy

        self.node.destroy_node()
        rclpy.try_shutdown()

    def _on_grasps(self, message, info: dict) -> None:
        now = time.time_ns()
        self.answered.setdefault(self._stamp_to_ns(message.header.stamp), (info['received_timestamp'] or now, now))

    def _on_timing(self, message) -> None:
        stamp = self._stamp_to_ns(message.header.stamp)
        self.steps.setdefault(stamp, _step_values(message))
        self.precisions.setdefault(stamp, _precision(message))

    def stop_timing(self) -> None:
        """Unsubscribe from ~/timing: the node stops publishing step times."""
        if self._timing is not None and not self._breakdown:
            self.node.destroy_subscription(self._timing)

    def send(self) -> tuple[int, int]:
        """Publish the next frame, the colour image last; its stamp and when the image went out."""
        from std_msgs.msg import Header

        from mtf_grasp.nodes.perception.ros_images import camera_info_message, image_message
        from mtf_grasp.perception import ns_to_sec_nanosec, topics

        self.index += 1
        stamp_ns = self.index * 10_000_000
        header = Header(frame_id=topics.COLOR_FRAME)
        header.stamp.sec, header.stamp.nanosec = ns_to_sec_nanosec(stamp_ns)
        self._info.publish(camera_info_message(self._intrinsics, header))
        self._depth_pub.publish(image_message(self._depth, '16UC1', header=header))
        image = image_message(self._rgb, 'rgb8', header=header)     # building it is the camera driver's cost
        sent = time.time_ns()      # system clock, as the DDS reception times
        self._color.publish(image)
        return stamp_ns, sent

    def await_answer(self, stamp_ns: int, limit_s: float, received: dict | None = None) -> bool:
        import rclpy

        received = self.answered if received is None else received
        deadline = time.monotonic() + limit_s
        while stamp_ns not in received and time.monotonic() < deadline:
            # Blocks until a message arrives: polling would steal a core from the node being timed.
            rclpy.spin_once(self.node, timeout_sec=max(deadline - time.monotonic(), 0.0))
        return stamp_ns in received

    def step(self, *, timed: bool) -> tuple[int, int, float]:
        """One frame answered, then one bare forward: (stamp, when sent, forward ms)."""
        stamp_ns, sent = self.send()
        if not self.await_answer(stamp_ns, 10.0):
            raise RuntimeError(f'frame {self.index} was not answered within 10 s')
        # The step times follow the grasps. Timed frames need them with --breakdown; warm-up frames
        # wait for them while ~/timing is watched, and may miss them while it is being discovered.
        if timed and self._breakdown and not self.await_answer(stamp_ns, 1.0, self.steps):
            raise RuntimeError(f'frame {self.index}: no step times on grasp_inference/timing within 1 s')
        if not timed and self.watch_timing:
            self.await_answer(stamp_ns, 1.0, self.steps)
        time.sleep(self._settle_s)
        forward_ms = self._forward()
        time.sleep(self._settle_s)
        return stamp_ns, sent, forward_ms


def _measure(model_path: Path, *, forward, runtime: dict, size: int, frames: int, warmup: int,
             timeout_s: float, workdir: Path, breakdown: bool) -> Measurement:
    """Start the node, find it, let it reach the precision asked for, warm it up, time `frames`."""
    from mtf_grasp.plan import NodeSpec
    from mtf_grasp.supervisor import Supervisor

    spec = NodeSpec('grasp_inference', 'grasp_inference', 'bench', {'model_path': str(model_path), **runtime})
    loop = _FrameLoop(forward=forward, runtime=runtime, size=size, breakdown=breakdown)
    result = Measurement()
    try:
        with Supervisor([spec], workdir=workdir, echo=None) as supervisor:
            deadline = time.monotonic() + timeout_s
            stamp_ns = _discover(loop, supervisor, deadline=deadline, timeout_s=timeout_s)
            # Until the node serves the precision asked for (int8: once calibrated), then the
            # warm-up frames: a new model's first passes are slower.
            while loop.watch_timing and loop.precisions.get(stamp_ns) != loop.precision:
                if time.monotonic() > deadline:
                    raise RuntimeError(f'grasp_inference did not serve {loop.precision} within {timeout_s:.0f} s')
                stamp_ns, _, _ = loop.step(timed=False)
            for _ in range(warmup):
                loop.step(timed=False)
            loop.stop_timing()
            for _ in range(frames):
                stamp_ns, sent, forward_ms = loop.step(timed=True)
                received_ns, callback_ns = loop.answered[stamp_ns]
                result.latencies.append((received_ns - sent) / 1e6)
                result.callbacks.append((callback_ns - sent) / 1e6)
                result.forwards.append(forward_ms)
                result.steps += [loop.steps[stamp_ns]] if breakdown else []
    finally:
        loop.close()
    return result


def _discover(loop: _FrameLoop, supervisor, *, deadline: float, timeout_s: float) -> int:
    """Repeat a first frame until the node answers one; its stamp."""
    while True:
        stamp_ns, _ = loop.send()
        if loop.await_answer(stamp_ns, 1.0):
            return stamp_ns
        supervisor.wait(timeout=0.01, until=lambda: True)
        if time.monotonic() > deadline:
            raise RuntimeError(f'grasp_inference did not answer within {timeout_s:.0f} s')


def _step_values(message) -> dict[str, float]:
    """{step: ms} from one `~/timing` DiagnosticArray."""
    return {value.key.removesuffix('_ms'): float(value.value) for value in message.status[0].values
            if value.key.endswith('_ms')}


def _precision(message) -> str:
    """The precision the frame's forward pass ran in, from one `~/timing` DiagnosticArray."""
    return next((value.value for value in message.status[0].values if value.key == 'precision'), '')
