"""A robot's share of a round, for fl_client and tier_coordinator: start from a received model,
train on the robot's own samples with the core's `local_update`, and wrap the result for sending."""
from __future__ import annotations

import time

from mtf_grasp.federated.rounds import ModelUpdate, local_update
from mtf_grasp.nodes.blob_transport import BlobHeader, make_blob
from mtf_grasp.nodes.inbox import receive_state
from mtf_grasp.nodes.round_report import RoundReport


class RobotTraining:
    def __init__(self, *, fleet, robot_id: str, report: RoundReport):
        self.fleet = fleet
        self.robot_id = robot_id
        self.profile = fleet.profile(robot_id)  # also checks the robot is in the partition
        self.dataset = fleet.workload.dataset
        self.indices = fleet.workload.indices[robot_id]
        self._report = report

    def receive(self, blob):
        """The state in a model blob this robot received (checked, and recorded)."""
        return receive_state(blob, fleet=self.fleet, report=self._report, receiver=self.robot_id)

    def train(self, start_state, *, epochs: int, round_index: int, role: str,
              prior_steps: float = 0.0) -> ModelUpdate:
        started = time.perf_counter()
        update = local_update(global_state=start_state, spec=self.fleet.spec, dataset=self.dataset,
                              indices=self.indices, epochs=epochs, round_index=round_index,
                              robot_id=self.robot_id, settings=self.fleet.settings,
                              base_seed=self.fleet.seed, prior_steps=prior_steps)
        self._report.training(round_index=round_index, robot_id=self.robot_id, role=role,
                              seconds=time.perf_counter() - started)
        return update

    def blob_of(self, update: ModelUpdate, *, version: int):
        encoded = self.fleet.encode(update.state)
        header = BlobHeader(sender=self.robot_id, architecture=self.fleet.spec.arch,
                            round_index=update.round_index, version=version,
                            sample_count=update.sample_count, local_steps=update.local_steps)
        return make_blob(encoded.payload, header=header, encoding=encoded.encoding,
                         metadata_json=encoded.metadata_json, sha256=encoded.sha256)
