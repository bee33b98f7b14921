"""An 8 MB model blob crosses process boundaries over a service byte-identical (sha256 checked)."""
import hashlib
import os
import time
from pathlib import Path

import pytest

from mtf_grasp_interfaces.msg import ModelBlob
from mtf_grasp_interfaces.srv import SubmitModel
from service_calls import answer

pytestmark = pytest.mark.ros


def echo_server_client(ros_processes, ros_node):
    """Start blob_echo_server.py in its own process; a client once its service is up."""
    server = ros_processes.python(Path(__file__).with_name('blob_echo_server.py'), name='server')
    client = ros_node.create_client(SubmitModel, 'submit_model')
    deadline = time.monotonic() + 30
    while not client.wait_for_service(timeout_sec=0.5):
        assert server.poll() is None, ros_processes.log(server)
        assert time.monotonic() < deadline, 'service never appeared'
    return client


def test_8mb_blob_round_trips_between_processes(ros_processes, ros_node):
    client = echo_server_client(ros_processes, ros_node)

    payload = os.urandom(8 * 1024 * 1024)
    blob = ModelBlob(sender='robot_0', architecture='test', encoding='raw',
                     sha256=hashlib.sha256(payload).hexdigest())
    blob.payload = payload
    response = answer(ros_node, client, SubmitModel.Request(blob=blob))
    assert response is not None, 'no response in 3 tries of 10 s'
    assert response.message == blob.sha256
    assert response.accepted


def test_corrupted_blob_is_detected_by_the_receiver(ros_processes, ros_node):
    client = echo_server_client(ros_processes, ros_node)

    payload = bytearray(os.urandom(1024))
    digest = hashlib.sha256(payload).hexdigest()
    payload[0] ^= 0xFF
    blob = ModelBlob(sha256=digest)
    blob.payload = bytes(payload)
    response = answer(ros_node, client, SubmitModel.Request(blob=blob))
    assert response is not None, 'no response in 3 tries of 10 s'
    assert not response.accepted
