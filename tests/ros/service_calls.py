"""A service call from a test, robust to the one reply Fast DDS can drop: a server answers within
100 ms only to a client whose response reader it has discovered, and under load a call right
after `wait_for_service` can beat that discovery (ros2/rmw_fastrtps#390, #467; the project's CI
on 2e1e4ed)."""
import rclpy


def answer(node, client, request, *, tries=3, timeout_s=10.0, appear_s=60.0):
    """The service's response, asking again (`tries` times in all, each waiting `timeout_s`) when
    one is lost; None when none came or the service did not appear within `appear_s`. Only for
    requests that may be repeated: a repeated submission counts twice."""
    if not client.wait_for_service(timeout_sec=appear_s):
        return None
    for _ in range(tries):
        future = client.call_async(request)
        rclpy.spin_until_future_complete(node, future, executor=node.executor, timeout_sec=timeout_s)
        if future.result() is not None:
            return future.result()
        client.remove_pending_request(future)
    return None
