"""A stand-in for a real arm's driver on the pose_goals contract (mtf_grasp.arm.pose_goals): it
reports every command done at once, or with argv[1] = 'fail_descend' reports the second pose goal
as a collision, or with 'silent' never answers."""
import sys

import rclpy
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import JointState
from std_msgs.msg import Header

from mtf_grasp.arm import pose_goals as contract
from mtf_grasp.nodes.perception.subscriber_wait import wait_for_subscribers


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else 'ok'
    rclpy.init()
    node = rclpy.create_node('standin_arm_driver', namespace='robot_0')
    done = node.create_publisher(Header, contract.DONE, 10)
    poses = []

    def answer(stamp, status: str) -> None:
        # As the contract asks: only once our done publisher is matched (the executor's subscription
        # may be matched with us before we are with it, and a volatile answer would go to nobody).
        wait_for_subscribers([done], count=1, timeout_s=30.0, poll_s=0.01, settle_s=0.0)
        done.publish(Header(stamp=stamp, frame_id=status))

    def on_pose(msg: PoseStamped) -> None:
        poses.append(msg)
        status = 'collision' if mode == 'fail_descend' and len(poses) == 2 else contract.OK
        if mode != 'silent':
            answer(msg.header.stamp, status)

    def on_gripper(msg: JointState) -> None:
        if mode != 'silent':
            answer(msg.header.stamp, contract.OK)

    node.create_subscription(PoseStamped, contract.POSE_GOAL, on_pose, 10)
    node.create_subscription(JointState, contract.GRIPPER_COMMAND, on_gripper, 10)
    print('up', flush=True)
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
