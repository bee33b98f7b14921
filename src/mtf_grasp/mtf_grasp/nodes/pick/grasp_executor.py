"""grasp_executor: serves the PickGrasp action. A goal's grasp (camera frame) is turned into a
top-down pick in the base frame with the camera extrinsics and executed by a backend: `sim` (the
simulated UR5e-like arm, scene shared with sim_camera through `scene_topic`) or `pose_goals`
(poses and gripper commands for a real arm's driver, mtf_grasp.arm.pose_goals).

All the work is in `perception` (transform chain), `sim` (arm, IK, pick) and `arm`; this node
wires the action, topics and parameters.
"""
from __future__ import annotations

import sys
import threading
import time

from geometry_msgs.msg import PoseStamped
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Header, Int64

from mtf_grasp.arm import ExecutorConfig
from mtf_grasp.errors import InputError
from mtf_grasp.nodes.parameters import declare_config
from mtf_grasp.nodes.pick.pick_messages import pick_result, pose_stamped, selected_pick
from mtf_grasp.nodes.qos import LATCHED
from mtf_grasp.nodes.runtime import run_node
from mtf_grasp.perception import topics
from mtf_grasp_interfaces.action import PickGrasp
from mtf_grasp_interfaces.msg import GraspArray

FEEDBACK_PERIOD_S = 0.1


class GraspExecutor(Node):
    def __init__(self):
        super().__init__('grasp_executor')
        self.cfg = declare_config(self, ExecutorConfig)
        self._latest: GraspArray | None = None
        self._busy = threading.Lock()
        group = ReentrantCallbackGroup()
        self.create_subscription(GraspArray, topics.GRASPS, self._on_grasps, 10)
        if self.cfg.backend == 'sim':
            from mtf_grasp.sim.pick_session import SimArm

            self._sim = SimArm(extrinsics=self.cfg, objects=self.cfg.scene_objects)
            self._scene_ack = self.create_publisher(Int64, '~/scene_loaded', LATCHED)
            self._load_scene(self.cfg.scene_seed)
            self.create_subscription(Int64, self.cfg.scene_topic, lambda m: self._load_scene(m.data), LATCHED,
                                     callback_group=group)
            self._joints = self.create_publisher(JointState, 'joint_states', 10)
            self.create_timer(1.0 / self.cfg.joint_state_rate_hz, self._publish_joints)
            self._run = self._run_sim
        else:
            from mtf_grasp.nodes.pick.pose_goals_link import PoseGoalsLink

            self._link = PoseGoalsLink(self, timeout_s=self.cfg.driver_timeout_s, callback_group=group)
            self._run = self._link.run
        self._server = ActionServer(self, PickGrasp, 'pick', execute_callback=self._execute,
                                    goal_callback=self._on_goal, cancel_callback=lambda _: CancelResponse.ACCEPT,
                                    callback_group=group)
        self.get_logger().info(f'serving pick ({self.cfg.backend} backend, {self.cfg.base_frame} <- '
                               f'{self.cfg.camera_frame})')

    def _on_grasps(self, msg: GraspArray) -> None:
        self._latest = msg

    def _on_goal(self, _goal) -> GoalResponse:
        if self._busy.locked():
            self.get_logger().warning('pick goal rejected: another pick is running',
                                      throttle_duration_sec=self.cfg.warn_period_s)
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _load_scene(self, seed: int) -> None:
        with self._busy:             # never under a running pick
            self._sim.load(seed)
        self._scene_ack.publish(Int64(data=int(seed)))
        self.get_logger().info(f'scene {seed} loaded')

    def _publish_joints(self) -> None:
        from mtf_grasp.sim.arm import JOINTS

        self._joints.publish(JointState(header=Header(stamp=self.get_clock().now().to_msg()), name=list(JOINTS),
                                        position=self._sim.joint_positions()))

    def _execute(self, goal_handle):
        started = time.monotonic()
        with self._busy:
            goal = goal_handle.request
            now_s = self.get_clock().now().nanoseconds / 1e9
            pick, problem = selected_pick(goal, latest=self._latest, cfg=self.cfg, now_s=now_s)
            if pick is None:
                self.get_logger().warning(f'pick goal aborted: {problem}', throttle_duration_sec=self.cfg.warn_period_s)
                goal_handle.abort()
                return pick_result(success=False, reason=PickGrasp.Result.REASON_NO_GRASP, cfg=self.cfg,
                                   started=started, node=self)
            outcome = self._run(pick, goal=goal, goal_handle=goal_handle)
        if goal_handle.is_cancel_requested:
            goal_handle.canceled()
        elif outcome.success:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return pick_result(success=outcome.success, reason=outcome.reason, lifted_m=outcome.lifted_m, pick=pick,
                           cfg=self.cfg, started=started, node=self)

    def _run_sim(self, pick, *, goal, goal_handle):
        from mtf_grasp.sim.pick import PickSettings

        settings = PickSettings(approach_height=goal.approach_height_m or self.cfg.approach_height_m,
                                lift_height=goal.lift_height_m or self.cfg.lift_height_m)
        last = {'phase': '', 'at': 0.0}

        def feedback(phase, position, rotation) -> None:
            now = time.monotonic()
            if phase != last['phase'] or now - last['at'] >= FEEDBACK_PERIOD_S:
                last.update(phase=phase, at=now)
                goal_handle.publish_feedback(PickGrasp.Feedback(
                    phase=phase, gripper_pose=pose_stamped(position, rotation, node=self, frame=self.cfg.base_frame)))

        return self._sim.pick(pick, settings=settings, real_time_factor=self.cfg.real_time_factor,
                              on_feedback=feedback, should_stop=lambda: goal_handle.is_cancel_requested)


def main(args=None) -> int:
    return run_node('grasp_executor', GraspExecutor, args=args,
                    executor_factory=lambda: MultiThreadedExecutor(num_threads=3))


if __name__ == '__main__':
    sys.exit(main())
