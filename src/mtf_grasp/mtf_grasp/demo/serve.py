"""Serve grasps with a model on a replayed bag (config/replay.yaml's plan: bag_replayer and
grasp_inference as their own processes) and save every frame annotated with the node's grasps."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from mtf_grasp.errors import InputError
from mtf_grasp.perception import topics


def bag_frames(bag: str | Path) -> int:
    """Number of colour frames in the bag: the images to collect."""
    from mtf_grasp.bags import read_bag

    frames = sum(m.topic.endswith(topics.COLOR) for m in read_bag(bag))
    if not frames:
        raise InputError(f'{bag}: no {topics.COLOR} messages to replay')
    return frames


@dataclass(frozen=True)
class Served:
    images: list[Path]   # grasps_NN.png, in the bag's frame order
    frames: int          # colour frames in the bag


def serve_and_save(*, config: str | Path, bag: str | Path, model: str | Path, out_dir: str | Path,
                   workdir: str | Path, timeout_s: float = 120.0) -> Served:
    """Run the replay plan with `bag` and `model` until grasp_inference has answered every frame,
    stop its nodes, and write each frame with its grasps drawn to `out_dir` (grasps_NN.png).

    The replay's camera topics are best effort: should a frame never reach the node within
    `timeout_s`, the frames answered so far are written, once there is one (at most another
    `timeout_s`)."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor

    from mtf_grasp.demo.grasp_images import GraspCollector, write_grasp_images
    from mtf_grasp.perception_plan import replay_plan
    from mtf_grasp.supervisor import Supervisor

    if not Path(model).is_file():
        raise InputError(f'{model}: no such model file')
    frames = bag_frames(bag)
    # The replay loops: frames seen before every node was matched come round again.
    specs = replay_plan(config, overrides={'bag_replayer': {'bag_path': str(bag), 'loop': True},
                                           'grasp_inference': {'model_path': str(model)}})
    context = Context()
    rclpy.init(context=context)
    collector = GraspCollector(frames=frames, namespace=specs[0].namespace, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(collector)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        with Supervisor(specs, workdir=workdir, echo=None) as supervisor:
            try:
                supervisor.wait(until=collector.done.is_set, timeout=timeout_s)
            except TimeoutError:   # then settle for what came, once something has
                supervisor.wait(until=lambda: bool(collector.grasps), timeout=timeout_s)
    finally:
        executor.shutdown()
        spinner.join(timeout=5)
        collector.destroy_node()
        rclpy.shutdown(context=context)
    return Served(write_grasp_images(bag, collector.grasps, out_dir), frames)
