"""A node on the fleet's DDS domain that is not in its roster: usage `stranger_node.py OUT ROUNDS`.

It tries to register as robot_0 with a profile signed by a key of its own, then on every round
plan whose global model it can still fetch (fetching is open to anyone), poisons it (weights
x -50: finite, the right shapes, so only admission can stop it) and submits it three ways: as
itself, as robot_0 signed with its own key, and as robot_1 unsigned. Every answer, and the last
fleet status once the ROUNDS rounds are over, go to OUT as JSON lines.
"""
import hashlib
import json
import secrets
import sys

import rclpy
from mtf_grasp_interfaces.msg import FleetStatus, ModelBlob, RobotProfile, RoundPlan
from mtf_grasp_interfaces.srv import FetchModel, RegisterRobot, SubmitModel
from rclpy.executors import SingleThreadedExecutor
from safetensors.torch import load

from mtf_grasp.federated.signing import WireProfile, sign_profile
from mtf_grasp.federated.codec import encode_state
from mtf_grasp.grasping.model_spec import ModelSpec
from mtf_grasp.nodes.fleet import names
from mtf_grasp.nodes.blob_transport import BlobHeader, make_blob
from service_calls import answer

OWN_KEY = secrets.token_bytes(32)


def finished(executor, statuses, rounds: int, *, what: str) -> None:
    """After a call went unanswered (`service_calls.answer` gave None): fine once the fleet has
    ended its last round (a server leaving right after it may take a call still in flight with it),
    an error before."""
    for _ in range(100):
        if statuses and statuses[-1].round >= rounds:
            return
        executor.spin_once(timeout_sec=0.1)
    raise RuntimeError(f'no answer to {what} from a fleet still running')


def poisoned(blob):
    spec = ModelSpec.from_json(blob.metadata_json)
    state = load(memoryview(blob.payload).tobytes())
    state = {k: v * -50 if v.is_floating_point() else v for k, v in state.items()}
    return encode_state(state, spec=spec, dtype='fp16' if blob.encoding.endswith('fp16') else 'fp32')


def leave_the_domain(node, out_path: str, published: dict[int, int]) -> None:
    """Write how many messages a forging node published each round to `out_path` (JSON lines), then
    leave the domain."""
    with open(out_path, 'w') as out:
        for round_index, count in sorted(published.items()):
            out.write(json.dumps({'round': round_index, 'published': count}) + '\n')
    node.destroy_node()
    rclpy.shutdown()


def on_the_domain(name: str):
    """A node named `name` on its own executor, following the fleet's plans and status: (node,
    executor, plans, statuses), the lists growing as messages come."""
    rclpy.init()
    node = rclpy.create_node(name)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    plans, statuses = [], []
    node.create_subscription(RoundPlan, names.ROUND_PLAN, plans.append, names.LATCHED)
    node.create_subscription(FleetStatus, names.FLEET_STATUS, statuses.append, names.LATCHED)
    return node, executor, plans, statuses


def main(out_path: str, rounds: int) -> None:
    node, executor, plans, statuses = on_the_domain('stranger')
    published = []   # the latched global model that grasp_inference nodes swap in
    node.create_subscription(ModelBlob, names.GLOBAL_MODEL_LATEST, published.append, names.LATCHED)
    register = node.create_client(RegisterRobot, names.REGISTER)
    fetch = node.create_client(FetchModel, names.GLOBAL_MODEL)
    submit = node.create_client(SubmitModel, names.SUBMIT_TO_SERVER)
    with open(out_path, 'w') as out:
        def record(**entry):
            out.write(json.dumps(entry) + '\n')
            out.flush()

        profile = WireProfile(robot_id='robot_0', sample_count=1000, class_histogram=(1000, 0, 0, 0, 0, 0),
                              labeller='angle')
        response = answer(node, register, RegisterRobot.Request(
            profile=RobotProfile(robot_id=profile.robot_id, sample_count=profile.sample_count,
                                 class_histogram=list(profile.class_histogram), labeller=profile.labeller),
            signature=sign_profile(profile, OWN_KEY)))
        record(kind='register', accepted=response.accepted, message=response.message)
        done = set()
        while not statuses or statuses[-1].round < rounds:
            executor.spin_once(timeout_sec=0.1)
            if not plans or plans[-1].round in done:
                continue
            round_index = plans[-1].round
            response = answer(node, fetch, FetchModel.Request(requester='stranger', round=round_index))
            if response is None:
                finished(executor, statuses, rounds, what=f'the fetch of round {round_index}')
                break
            if not response.available:   # that round is over already; wait for the next plan
                done.add(round_index)
                continue
            blob = response.blob
            encoded = poisoned(blob)
            for sender, key in (('mallory', OWN_KEY), ('robot_0', OWN_KEY), ('robot_1', None)):
                header = BlobHeader(sender=sender, architecture=blob.architecture, round_index=round_index,
                                    version=blob.version, sample_count=1000, local_steps=10.0)
                forged = make_blob(encoded.payload, header=header, encoding=encoded.encoding,
                                   metadata_json=encoded.metadata_json, sha256=encoded.sha256, key=key)
                reply = answer(node, submit, SubmitModel.Request(blob=forged), tries=1, timeout_s=30.0)
                if reply is None:   # recorded as tried, without an answer; the fleet is over
                    finished(executor, statuses, rounds, what=f'a submission of round {round_index}')
                    record(kind='submit', round=round_index, sender=sender, accepted=None, message=None)
                    break
                record(kind='submit', round=round_index, sender=sender, accepted=reply.accepted,
                       message=reply.message, global_sha256=blob.sha256)
            done.add(round_index)
        while not published or published[-1].version < rounds:
            executor.spin_once(timeout_sec=0.1)
        record(kind='global_model', version=published[-1].version, sha256=published[-1].sha256,
               payload_sha256=hashlib.sha256(memoryview(published[-1].payload)).hexdigest())
        status = statuses[-1]
        record(kind='status', round=status.round, rejected_submissions=status.rejected_submissions,
               last_rejection=status.last_rejection, global_sha256=status.global_sha256,
               participants=list(status.participants))
    node.destroy_node()
    rclpy.shutdown()


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
