"""The server's checkpoint chain on disk (nodes/fleet/context.py, no ROS): a restarted server resumes
from the latest checkpoint and finds the global model that round started from, for its audits."""
from types import SimpleNamespace

import torch

from mtf_grasp.federated.config import experiment_from_mapping
from mtf_grasp.nodes.fleet.context import FleetContext


def _moved(state, by: float):
    return {k: v + by if v.is_floating_point() else v for k, v in state.items()}


def _same(first, second) -> bool:
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def test_a_resumed_server_finds_the_model_its_last_round_started_from(tmp_path):
    config = experiment_from_mapping({'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32}}, 'test')
    fleet = FleetContext(params=SimpleNamespace(method='mtf_avg'), config=config)
    directory = str(tmp_path)
    assert fleet.previous_global(directory) is None and fleet.previous_global('') is None
    models = [fleet.initial_state()]
    for round_index in range(2):   # round r starts from models[r] and ends with models[r + 1]
        models.append(_moved(models[-1], 0.25))
        fleet.checkpoint(directory, models[-1], round_index=round_index, sha256=fleet.encode(models[-1]).sha256,
                         previous_sha256=fleet.encode(models[-2]).sha256, accuracy=0.0)
        fleet.commit_checkpoint(directory)
        # The next round resumes from models[r + 1]; the step into it starts at models[r].
        assert fleet.resume_point(directory)[0] == round_index + 1
        assert _same(fleet.previous_global(directory), models[round_index])
    # A checkpoint that no longer hashes to the chain is not used.
    fleet.checkpoint(directory, models[2], round_index=0, sha256='', previous_sha256='', accuracy=0.0)
    assert fleet.previous_global(directory) is None
