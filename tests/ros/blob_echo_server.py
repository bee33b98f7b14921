"""A SubmitModel service in its own process: checks the blob's sha256 and answers with the digest."""
import hashlib
import sys

import rclpy
from mtf_grasp_interfaces.srv import SubmitModel


def main() -> None:
    rclpy.init()
    node = rclpy.create_node('blob_echo_server')

    def on_submit(request, response):
        digest = hashlib.sha256(bytes(request.blob.payload)).hexdigest()
        response.accepted = digest == request.blob.sha256
        response.message = digest
        return response

    node.create_service(SubmitModel, 'submit_model', on_submit)
    print('ready', flush=True)
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    sys.exit(0)


if __name__ == '__main__':
    main()
