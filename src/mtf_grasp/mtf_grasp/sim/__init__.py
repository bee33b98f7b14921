"""MuJoCo simulation core: table-top scenes, RGB-D rendering, two-finger grasp trials, and the
SimGrasp dataset generator. No rclpy here; the `sim_camera` node and `sim-trials` wrap it.

Names are loaded on first use: `mtf_grasp.sim.camera` (poses) needs only numpy. The pinhole
intrinsics are perception's `mtf_grasp.perception.intrinsics.CameraIntrinsics`.
Before MuJoCo is first imported here, a working headless GL backend is picked (MUJOCO_GL if it
works, else EGL, else OSMesa), because MuJoCo binds the backend when it is imported.

Conventions: world z is up and the table top is z = 0; camera frames are ROS optical frames
(x right, y down, z forward); image angles are radians in image axes (x right, y down), the same
as `mtf_grasp.grasping.GraspRect.angle` (Jacquard files hold them in degrees).

API
---
    spec = random_scene(seed, *, n_objects=None, categories=None, intrinsics=None, preset='tabletop')
        -> SceneSpec(seed, objects, camera: CameraPose, intrinsics: CameraIntrinsics, lighting,
                     table_rgba, table_size, table_texture, board_xy, surroundings, sensor, categories).
        Same seed, same scene. 1-4 objects of the preset's categories (tabletop: CATEGORY_NAMES);
        preset 'real' (scene.PRESETS): a board on a table, floor, wall and clutter in view, camera
        0.4-1.2 m and tilted up to 30 degrees, structured-light depth, varied exposure.
    sim = SimScene(spec)            # compiled MuJoCo world, objects dropped and settled
    sim.reset()                     # back to the settled state (trials call it themselves)
    with SceneRenderer(sim) as renderer:
        frame = renderer.render(sensor_noise=False, rng=None)
        # Frame(rgb HxWx3 uint8, depth HxW float32 metres (0 = no data),
        #       segmentation HxW int32 object index or -1, intrinsics, camera_pose)
        # sensor_noise=True: RealSense-like depth noise and holes, colour noise (seeded by
        # rng, default the scene seed, so renders repeat exactly).
    result = execute_grasp(sim, *, center_px=(u, v), angle=rad, opening_px=px,
                           depth_image=frame.depth, intrinsics=None, camera_pose=None)
        -> TrialResult(success: bool, lift_height_m: float, reason: str, object_index: int)
        # Image grasp -> top-down gripper pose (depth median around the centre, intrinsics,
        # camera pose; defaults: the scene's own camera), then a physics trial from the settled
        # state: descend (stopping on contact), close with 25 N per finger, lift 12 cm, hold.
        # reason: lifted | slipped | blocked | no_contact | no_depth.
    run_trial(sim, GripperPose(position=(x, y, z), yaw=rad, opening=m)) -> TrialResult
    image_grasp_to_pose(*, center_px, angle, opening_px, depth_image, intrinsics, camera_pose)
        -> GripperPose | None
    CameraIntrinsics(fx, fy, cx, cy, width, height); CameraIntrinsics.realsense_d435()
        (640x480, fx = fy = 615, cx = 319.5, cy = 239.5); .deproject(u, v, z), .project(pts),
        .to_dict()
    CameraPose(position, rotation)  # world <- optical frame; .matrix (4x4), .to_world(p),
        .to_camera(p), CameraPose.look_at(eye, target, roll=0)
    grasp_candidates(sim) -> [Candidate]; to_image(candidate, *, intrinsics, camera_pose)
        -> ImageGrasp(x, y, angle_deg, opening_px, jaw_px)   # geometric antipodal proposals
    label_scene(spec) -> LabelledScene(frame (with sensor noise), grasps (ImageGrasp, confirmed
        by physics on the perfect depth), category (index in CATEGORY_NAMES), trials)
    generate_dataset(out, *, scenes, seed, workers=2, progress=True, preset='tabletop') -> manifest dict
        # the SimGrasp dataset in the Jacquard layout (see mtf_grasp.sim.dataset_files);
        # scene i of a dataset uses random_scene(generator.scene_seed(seed, i, attempt)).

The arm (what grasp_executor's sim backend and `pick-trials` use; poses in the arm's base_link):
    scene = ArmScene(pick_scene.pick_scene(seed, extrinsics=CameraExtrinsics()))   # UR5e-like arm at home,
        # objects of random_scene(seed), camera at the calibrated mount
    scene.solve_ik(position, rotation, q_start) -> joint positions | None   # DLS on MuJoCo's Jacobian
    outcome = execute_pick(scene, PickPose(position, yaw, width_m), settings=PickSettings(),
                           tick=None) -> PickOutcome(success, reason, lifted_m, object_index, sim_time_s)
        # reason: '' | unreachable | collision | empty_grasp | slipped | timeout | canceled
    SimArm(extrinsics=..., objects=0).load(seed); .pick(...)    # one scene at a time, paced

Closed-loop trial of a model on an unseen scene (what `sim-trials` does):
    sim = SimScene(random_scene(seed))
    with SceneRenderer(sim) as renderer:
        frame = renderer.render(sensor_noise=True)
    rect = <top grasp predicted on frame.rgb / frame.depth, in camera-image pixels>
    result = execute_grasp(sim, center_px=(rect.cx, rect.cy), angle=rect.angle,
                           opening_px=rect.length, depth_image=frame.depth)
"""
import importlib

# Public name -> defining module. Loaded on first use (PEP 562), so that light parts such as
# `mtf_grasp.sim.camera` can be imported without MuJoCo and its GL set-up.
_EXPORTS = {
    'CameraPose': 'camera',
    'Lighting': 'scene', 'ObjectSpec': 'scene', 'SceneSpec': 'scene', 'random_scene': 'scene',
    'CATEGORY_NAMES': 'shapes', 'Part': 'shapes',
    'SimScene': 'world',
    'Frame': 'render', 'SceneRenderer': 'render',
    'GripperPose': 'trial', 'TrialResult': 'trial', 'execute_grasp': 'trial',
    'image_grasp_to_pose': 'trial', 'run_trial': 'trial',
    'Candidate': 'candidates', 'ImageGrasp': 'candidates', 'grasp_candidates': 'candidates',
    'to_image': 'candidates',
    'LabelledScene': 'labelling', 'label_scene': 'labelling',
    'generate_dataset': 'generator',
    'ArmScene': 'arm_scene', 'PickOutcome': 'pick', 'PickSettings': 'pick', 'execute_pick': 'pick',
    'SimArm': 'pick_session',
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(importlib.import_module(f'{__name__}.{_EXPORTS[name]}'), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
