"""The far end of `bench transfer`, in its own process: a SubmitModel service that checks the
sha256 of each blob, and a raw topic that acknowledges each same-size message with its round."""
from __future__ import annotations

import rclpy
from mtf_grasp_interfaces.msg import ModelBlob
from mtf_grasp_interfaces.srv import SubmitModel
from rclpy.executors import ExternalShutdownException
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import UInt32

from mtf_grasp.nodes.blob_transport import BlobRejected, received_payload

RELIABLE_ONE = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)


def main() -> None:
    rclpy.init()
    node = rclpy.create_node('bench_transfer_peer')
    acks = node.create_publisher(UInt32, 'bench_ack', RELIABLE_ONE)

    def on_submit(request, response):
        try:
            response.message = str(len(received_payload(request.blob)))
            response.accepted = True
        except BlobRejected as exc:
            response.message = exc.reason
        return response

    node.create_service(SubmitModel, 'bench_submit', on_submit)
    node.create_subscription(ModelBlob, 'bench_raw', lambda blob: acks.publish(UInt32(data=blob.round)),
                             RELIABLE_ONE)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass  # Ctrl-C or SIGTERM: a normal end
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
