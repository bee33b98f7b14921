"""grasp_inference: colour + aligned depth + camera_info in, grasps, RViz markers and an annotated
image out; a newer global model from the fleet is swapped in without pausing the camera stream.

One executor thread handles every callback. With rclpy's MultiThreadedExecutor the second thread
kept waking on the wait set while a frame was processed and took CPU from the forward pass (about
6 ms a frame on two cores). A new model is therefore decoded and built in a worker thread.

All work is in `perception` (matching, decoding, checks, detection, poses); this node wires topics.
"""
from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TransformStamped
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from mtf_grasp.errors import InputError
from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.perception.grasp_messages import grasp_array, grasp_markers, timing_message
from mtf_grasp.nodes.perception.ros_images import image_message
from mtf_grasp.nodes.pick.pick_messages import extrinsics_transform, grasp_in_base
from mtf_grasp.nodes.qos import LATCHED, camera_qos
from mtf_grasp.nodes.runtime import run_node
from mtf_grasp.perception import (BadFrame, RgbdSynchronizer, StepTimer, check_rgbd, color_to_rgb,
                                  depth_to_metres, draw_grasps, grasp_pose, intrinsics_from_camera_info,
                                  stamp_to_ns, topics)
from mtf_grasp.perception.clearance import rerank_by_clearance
from mtf_grasp.perception.grasp_detector import GraspDetector
from mtf_grasp.perception.node_settings import InferenceConfig
from mtf_grasp_interfaces.msg import GraspArray, ModelBlob


class Received(NamedTuple):
    message: Any
    arrived_ns: int     # DDS reception, system clock; 0 where the RMW does not report it


class GraspInference(Node):
    def __init__(self):
        super().__init__('grasp_inference')
        self.cfg = declare_config(self, InferenceConfig)
        if not self.cfg.model_path:
            raise InputError('parameter model_path: a model file is required')
        try:
            self._detector = GraspDetector.from_file(self.cfg.model_path, settings=self.cfg.detector_settings())
        except ValueError as exc:     # a backend/precision/device combination that cannot run
            raise InputError(str(exc)) from exc
        self.dropped = 0
        self._quantizing = False
        self._sync = RgbdSynchronizer(slop_s=self.cfg.slop_s, queue_size=self.cfg.queue_size,
                                      on_drop=lambda d: self._drop(f'no {" or ".join(d.missing) or "match"} '
                                                                   f'within {self.cfg.slop_s} s'))
        # Full-size frames on best-effort topics were mostly lost between processes here (docs/demo.md).
        qos = camera_qos(reliable=self.cfg.reliable_input, depth=self.cfg.queue_size)
        for stream, msg_type, topic in (('color', Image, topics.COLOR), ('depth', Image, topics.DEPTH),
                                        ('info', CameraInfo, topics.CAMERA_INFO)):
            self.create_subscription(msg_type, topic, self._on_message(stream), qos)
        self._builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix='model-swap')   # swaps in order
        self.create_subscription(ModelBlob, self.cfg.model_topic,
                                 lambda blob: self._builder.submit(self._swap_in, blob), LATCHED)
        self._grasps = self.create_publisher(GraspArray, topics.GRASPS, 10)
        self._markers = self.create_publisher(MarkerArray, topics.GRASP_MARKERS, 10)
        self._image = self.create_publisher(Image, topics.GRASP_IMAGE, qos_profile_sensor_data)
        self._timing = self.create_publisher(DiagnosticArray, topics.FRAME_TIMING, 10)
        self._grasp_pose = self.create_publisher(PoseStamped, topics.GRASP_POSE, 10)
        self._extrinsics = self.create_publisher(TransformStamped, topics.CAMERA_EXTRINSICS, LATCHED)
        self._extrinsics.publish(extrinsics_transform(self.cfg, node=self))
        self.get_logger().info(f'serving {self._detector.spec.arch} version {self._detector.version} '
                               f'on {self.cfg.backend}/{self.cfg.device}/{self._detector.precision}'
                               + (f' until int8 is calibrated on the first {self.cfg.calibration_frames} frames'
                                  if self._detector.calibrating else ''))

    def _on_message(self, stream: str):
        def callback(msg, info: dict) -> None:
            frame = self._sync.add(stream, stamp_ns=stamp_to_ns(msg.header.stamp),
                                   message=Received(msg, info['received_timestamp']))
            if frame is not None:
                parts = (frame.color, frame.depth, frame.info)
                try:
                    self._process(*(p.message for p in parts), arrived_ns=max(p.arrived_ns for p in parts))
                except BadFrame as exc:
                    self._drop(str(exc))
        return callback

    def _process(self, color: Image, depth: Image, info: CameraInfo, *, arrived_ns: int) -> None:
        timer = StepTimer()
        if arrived_ns:
            timer.add('dispatch', (time.time_ns() - arrived_ns) / 1e6)
        rgb, depth_m = color_to_rgb(color), depth_to_metres(depth)
        intrinsics = intrinsics_from_camera_info(info)
        check_rgbd(rgb, depth_m, info_size=(intrinsics.width, intrinsics.height),
                   max_invalid_depth=self.cfg.max_invalid_depth)
        timer.mark('convert')
        detector = self._detector   # one model version per frame, even if a swap lands meanwhile
        grasps = detector.detect(rgb, depth_m, timer=timer).grasps
        if self.cfg.clearance_check:      # picking: grasps whose fingers would hit something go last
            grasps = rerank_by_clearance(grasps, depth_m=depth_m, intrinsics=intrinsics,
                                         settings=self.cfg.clearance_settings())
        poses = [grasp_pose(x=g.cx, y=g.cy, angle=g.angle, length_px=g.length, depth_m=depth_m,
                            intrinsics=intrinsics) for g in grasps]
        header = Header(stamp=color.header.stamp, frame_id=color.header.frame_id)
        self._grasps.publish(grasp_array(header, grasps=grasps, poses=poses, version=detector.version,
                                         architecture=detector.spec.arch))
        best = next((p for p in poses if p is not None), None)
        if self.cfg.publish_grasp_pose and best is not None and self._grasp_pose.get_subscription_count():
            self._grasp_pose.publish(grasp_in_base(best, extrinsics=self.cfg, node=self, stamp=header.stamp))
        timer.mark('publish')
        # Markers and the drawn image only for someone listening (RViz, rqt): at camera rate the
        # drawing and the 150 kB image would take CPU from the next frame and from grasp consumers.
        if self.cfg.publish_markers and self._markers.get_subscription_count():
            self._markers.publish(grasp_markers(header, poses))
        if self.cfg.publish_image and self._image.get_subscription_count():
            annotated = draw_grasps(rgb, [g.corners() for g in grasps])
            self._image.publish(image_message(annotated, 'rgb8', header=header))
        if self._timing.get_subscription_count():
            self._timing.publish(timing_message(header, timer.ms, name=self.get_fully_qualified_name(),
                                               precision=detector.precision))
        if detector.calibration_complete and not self._quantizing:
            self._quantizing = True
            self._builder.submit(self._quantize, detector)

    def _drop(self, reason: str) -> None:
        self.dropped += 1
        self.get_logger().warning(f'frame dropped: {reason} ({self.dropped} dropped so far)',
                                  throttle_duration_sec=self.cfg.warn_period_s)

    def destroy_node(self) -> None:
        self._builder.shutdown(wait=True, cancel_futures=True)
        super().destroy_node()

    def _quantize(self, detector: GraspDetector) -> None:
        """int8 from the calibration frames, built beside the serving fp32 detector, as a swap is."""
        try:
            int8 = detector.calibrated()
        except Exception as exc:    # a worker thread's exception would vanish; fp32 keeps serving
            self.get_logger().error(f'int8 quantization failed, serving fp32: {exc}')
            return                  # _quantizing stays set: no retry on every frame
        if self._detector is detector:    # else a newer model came meanwhile and calibrates afresh
            self._detector = int8
            self.get_logger().info(f'model version {detector.version}: int8 ready, calibrated on '
                                   f'{self.cfg.calibration_frames} frames')
        self._quantizing = False

    def _swap_in(self, blob: ModelBlob) -> None:
        from mtf_grasp.federated.codec import ModelRejected, decode_state
        from mtf_grasp.nodes.blob_transport import BlobRejected, received_payload

        current = self._detector
        if blob.version <= current.version:
            return
        try:
            state = decode_state(received_payload(blob), sha256=blob.sha256, encoding=blob.encoding,
                                 expected_spec=current.spec)
        except (BlobRejected, ModelRejected) as exc:
            self.get_logger().warning(f'global model {blob.version} from {blob.sender} rejected: {exc}')
            return
        # Built in the worker thread while frames keep using `current`; the assignment is
        # atomic, so a frame sees either the old or the new detector.
        self._detector = current.with_weights(state, version=blob.version)
        self.get_logger().info(f'model version {current.version} -> {blob.version}')


def main(args=None) -> int:
    return run_node('grasp_inference', GraspInference, args=args)


if __name__ == '__main__':
    sys.exit(main())
