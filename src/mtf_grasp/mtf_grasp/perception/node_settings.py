"""Settings of the camera-side nodes (grasp_inference, bag_replayer, realsense_camera, sim_camera).

Each field is one ROS parameter (declared with its help text by `nodes.parameters.declare_config`)
and one key under the node's section of config/inference.yaml or config/replay.yaml.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mtf_grasp.perception import topics
from mtf_grasp.perception.clearance import ClearanceSettings
from mtf_grasp.perception.extrinsics import CameraExtrinsics
from mtf_grasp.perception.grasp_detector import DetectorSettings
from mtf_grasp.perception.workspace import WorkspaceSettings


@dataclass(frozen=True)
class InferenceConfig(CameraExtrinsics):
    model_path: str = field(default='', metadata={'help': 'model file (.safetensors) to start with'})
    backend: Literal['torch', 'onnxruntime'] = field(default='torch', metadata={'help': 'forward-pass runtime'})
    device: str = field(default='cpu', metadata={'help': "torch device ('cpu', 'cuda', 'cuda:1')"})
    threads: int = field(default=0, metadata={'help': 'CPU threads of the forward pass; 0: one per core'})
    precision: Literal['fp32', 'bf16', 'int8'] = field(default='fp32', metadata={
        'help': "forward-pass number format; 'bf16' (torch backend) is ~1.8x faster on CPUs with AVX512-BF16/AMX; "
                "'int8' (onnxruntime) runs the heaviest convolution in int8 once calibrated"})
    calibration_frames: int = field(default=8, metadata={
        'help': 'int8: the first frames, served in fp32, whose network inputs set the int8 activation ranges'})
    crop_x0: int = field(default=0, metadata={'help': 'left edge of the square crop (px)'})
    crop_y0: int = field(default=0, metadata={'help': 'top edge of the square crop (px)'})
    crop_size: int = field(default=0, metadata={'help': 'side of the square crop (px); 0: centred largest square'})
    workspace_x0: int = field(default=0, metadata={'help': 'workspace region: left edge (px)'})
    workspace_y0: int = field(default=0, metadata={'help': 'workspace region: top edge (px)'})
    workspace_x1: int = field(default=0, metadata={
        'help': 'workspace region: right edge (px, exclusive); 0 with workspace_y1 0: no region, the whole frame'})
    workspace_y1: int = field(default=0, metadata={'help': 'workspace region: bottom edge (px, exclusive)'})
    workspace_min_height_m: float = field(default=WorkspaceSettings.min_height_m, metadata={
        'help': 'depth band: grasps nearer the support surface (estimated from the frame) than this are not reported'})
    workspace_max_height_m: float = field(default=WorkspaceSettings.max_height_m, metadata={
        'help': 'depth band: grasps higher above the support surface than this are not reported; 0: no band'})
    workspace_edge_margin: float = field(default=WorkspaceSettings.edge_margin, metadata={
        'help': "no grasp centred within this fraction of the crop's side from its edges (0.08: 9 of 112 px); 0: none"})
    top_k: int = field(default=5, metadata={'help': 'most grasps published per frame'})
    min_quality: float = field(default=0.0, metadata={'help': 'grasps below this quality are not published'})
    slop_s: float = field(default=0.02, metadata={'help': 'largest stamp difference matched across topics'})
    queue_size: int = field(default=5, metadata={'help': 'messages kept per topic while matching'})
    reliable_input: bool = field(default=False, metadata={
        'help': 'subscribe to the camera topics reliably (a replay where every frame counts); '
                'false: best effort, as for a live camera, where a late frame is worth less than the next'})
    max_invalid_depth: float = field(default=0.5, metadata={'help': 'drop frames with more depth holes than this'})
    publish_markers: bool = field(default=True, metadata={'help': 'publish the RViz MarkerArray (while someone subscribes)'})
    publish_image: bool = field(default=True, metadata={'help': 'publish the annotated image (while someone subscribes)'})
    model_topic: str = field(default='/fleet/global_model', metadata={'help': 'latched ModelBlob topic of the fleet'})
    warn_period_s: float = field(default=5.0, metadata={'help': 'at most one bad-frame warning per period'})
    clearance_check: bool = field(default=False, metadata={
        'help': 'move grasps whose finger footprints the depth image shows blocked behind the clear ones'})
    clearance_margin_m: float = field(default=0.004, metadata={
        'help': 'clearance: depth nearer than the fingertips by more than this blocks a finger'})
    clearance_max_blocked: float = field(default=0.05, metadata={
        'help': 'clearance: a grasp with a larger blocked share of its finger footprints is rejected'})
    publish_grasp_pose: bool = field(default=True, metadata={
        'help': "publish the best grasp as a PoseStamped in base_frame on 'grasp_pose' (camera_* extrinsics)"})

    def __post_init__(self):
        super().__post_init__()
        if self.top_k < 1 or self.queue_size < 1 or self.slop_s < 0 or not 0 <= self.max_invalid_depth <= 1:
            raise ValueError(f'need top_k >= 1, queue_size >= 1, slop_s >= 0, 0 <= max_invalid_depth <= 1; got '
                             f'{self.top_k}, {self.queue_size}, {self.slop_s}, {self.max_invalid_depth}')
        if self.crop_size < 0 or self.crop_x0 < 0 or self.crop_y0 < 0 or self.threads < 0:
            raise ValueError('crop_x0, crop_y0, crop_size and threads must be >= 0')
        self.workspace_settings()     # raises on a bad region or band

    def clearance_settings(self) -> ClearanceSettings:
        return ClearanceSettings(margin_m=self.clearance_margin_m, max_blocked=self.clearance_max_blocked)

    def workspace_settings(self) -> WorkspaceSettings:
        roi = (self.workspace_x0, self.workspace_y0, self.workspace_x1, self.workspace_y1)
        return WorkspaceSettings(roi=roi if roi[2] or roi[3] else None, min_height_m=self.workspace_min_height_m,
                                 max_height_m=self.workspace_max_height_m, edge_margin=self.workspace_edge_margin)

    def detector_settings(self) -> DetectorSettings:
        crop = (self.crop_x0, self.crop_y0, self.crop_size) if self.crop_size > 0 else None
        return DetectorSettings(backend=self.backend, device=self.device, max_grasps=self.top_k,
                                min_quality=self.min_quality, crop=crop, threads=self.threads,
                                precision=self.precision, calibration_frames=self.calibration_frames,
                                workspace=self.workspace_settings())


@dataclass(frozen=True)
class ReplayConfig:
    bag_path: str = field(default='', metadata={'help': 'rosbag2 directory (MCAP or sqlite3)'})
    rate: float = field(default=1.0, metadata={'help': 'playback speed; 2.0 plays twice as fast'})
    loop: bool = field(default=False, metadata={'help': 'start again after the last message, forever'})
    wait_for_subscribers: int = field(default=0, metadata={
        'help': 'before playing, wait until every topic has at least this many matched subscriptions'})
    wait_timeout_s: float = field(default=30.0, metadata={'help': 'give up waiting for subscribers after this'})

    def __post_init__(self):
        if self.rate <= 0:
            raise ValueError(f'rate must be > 0, got {self.rate}')


@dataclass(frozen=True)
class RealSenseConfig:
    playback_file: str = field(default='', metadata={'help': 'play this .db3 recording instead of a camera'})
    serial_no: str = field(default='', metadata={'help': 'camera serial number; empty: the first one found'})
    width: int = field(default=640, metadata={'help': 'colour and depth width (px)'})
    height: int = field(default=480, metadata={'help': 'colour and depth height (px)'})
    fps: int = field(default=30, metadata={'help': 'frames per second'})
    realtime: bool = field(default=True, metadata={'help': 'play a recording at its recorded pace'})
    frame_timeout_ms: int = field(default=2000, metadata={
        'help': 'wait this long for a frame; a recording has ended when none comes in this time, so a '
                'busy machine needs more'})
    frame_id: str = field(default=topics.COLOR_FRAME, metadata={'help': 'frame of the published images'})
    wait_for_subscribers: int = field(default=0, metadata={
        'help': 'before streaming, wait until each camera topic has this many subscriptions'})
    wait_timeout_s: float = field(default=30.0, metadata={'help': 'give up waiting for subscribers after this'})


@dataclass(frozen=True)
class SimCameraConfig(CameraExtrinsics):
    seed: int = field(default=0, metadata={'help': 'seed of the first scene; scene k uses seed + k'})
    objects: int = field(default=0, metadata={'help': 'objects per scene; 0: 1-4 at random'})
    rate_hz: float = field(default=5.0, metadata={'help': 'frames per second'})
    scene_period_s: float = field(default=0.0, metadata={'help': 'seconds per scene; 0: one scene forever'})
    sensor_noise: bool = field(default=True, metadata={'help': 'RealSense-like depth noise and holes'})
    frame_id: str = field(default=topics.COLOR_FRAME, metadata={'help': 'frame of the published images'})
    reliable: bool = field(default=False, metadata={
        'help': 'publish reliably, so a reliable subscriber gets every frame even on a loaded machine; '
                'false: sensor-data QoS (best effort), as a RealSense driver publishes'})
    mount_camera: bool = field(default=False, metadata={
        'help': 'place the camera at the camera_* extrinsics from the simulated arm base (pick scenes) '
                'instead of the jittered camera of the dataset scenes'})
    scene_topic: str = field(default='', metadata={
        'help': "load the scene whose seed arrives on this std_msgs/Int64 topic (latched); '' : seed/scene_period_s"})

    def __post_init__(self):
        super().__post_init__()
        if self.rate_hz <= 0 or self.objects < 0 or self.scene_period_s < 0:
            raise ValueError(f'need rate_hz > 0, objects >= 0, scene_period_s >= 0; got {self.rate_hz}, '
                             f'{self.objects}, {self.scene_period_s}')
