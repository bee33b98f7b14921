"""A node outside the roster that forges coordinators' seeds: usage `seed_forger.py OUT ROUNDS`.

On every round plan it fetches the round's global model (fetching is open to anyone), multiplies
its weights by −50 (finite, the right shapes: only the members' check can stop it) and publishes
it, latched, on each coordinator's seed topic as that coordinator, signed with a key of its own;
again every 0.2 s until the round is over, so its seed reaches members before and after the
coordinator's. Each round's publications go to OUT as JSON lines.
"""
import sys

from mtf_grasp_interfaces.msg import ModelBlob
from mtf_grasp_interfaces.srv import FetchModel

from mtf_grasp.nodes.blob_transport import BlobHeader, make_blob
from mtf_grasp.nodes.fleet import names
from service_calls import answer
from stranger_node import OWN_KEY, finished, leave_the_domain, on_the_domain, poisoned


def main(out_path: str, rounds: int) -> None:
    node, executor, plans, statuses = on_the_domain('seed_forger')
    fetch = node.create_client(FetchModel, names.GLOBAL_MODEL)
    publishers, forged, published = {}, {}, {}
    while not statuses or statuses[-1].round < rounds:
        executor.spin_once(timeout_sec=0.2)
        if not plans:
            continue
        plan = plans[-1]
        if plan.round not in forged:
            response = answer(node, fetch, FetchModel.Request(requester='seed_forger', round=plan.round))
            if response is None:
                finished(executor, statuses, rounds, what=f'the fetch of round {plan.round}')
                break
            if not response.available:
                continue
            blob, encoded = response.blob, poisoned(response.blob)
            forged[plan.round] = [
                (c, make_blob(encoded.payload, encoding=encoded.encoding, metadata_json=encoded.metadata_json,
                              sha256=encoded.sha256, key=OWN_KEY,
                              header=BlobHeader(sender=c, architecture=blob.architecture, round_index=plan.round,
                                                version=blob.version, sample_count=1000, local_steps=10.0)))
                for c in plan.top_level_ids]
        for coordinator, blob in forged[plan.round]:
            if coordinator not in publishers:
                publishers[coordinator] = node.create_publisher(ModelBlob, names.seed_topic(coordinator),
                                                                names.LATCHED)
            publishers[coordinator].publish(blob)
            published[plan.round] = published.get(plan.round, 0) + 1
    leave_the_domain(node, out_path, published)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
