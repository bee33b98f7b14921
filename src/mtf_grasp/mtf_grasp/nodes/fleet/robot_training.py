"""A robot's share of a round, for fl_client and tier_coordinator: start from a received model
(signed by the server or the robot's coordinator, and checked), train on the robot's own samples
with the core's `local_update`, and wrap the result, signed with the robot's key, for sending.
With FedBN on, the robot trains with its own BatchNorm layers, and a robot the fleet's `attacks`
name trains on rotated labels or sends a poisoned model, as in the in-process experiment."""
from __future__ import annotations

import time

from mtf_grasp.federated.admission import SubmissionGuard
from mtf_grasp.federated.fedbn import LocalNorms
from mtf_grasp.federated.fit_check import loss_on
from mtf_grasp.federated.rounds import ModelUpdate, local_update
from mtf_grasp.nodes.blob_transport import BlobHeader, BlobRejected, make_blob, wire_blob
from mtf_grasp.nodes.fleet.round_report import RoundReport


class RobotTraining:
    def __init__(self, *, fleet, robot_id: str, report: RoundReport, keys: dict[str, bytes]):
        self.fleet = fleet
        self.keys = keys
        self.robot_id = robot_id
        self.profile = fleet.profile(robot_id)  # also checks the robot is in the partition
        self.dataset = fleet.workload.dataset
        self.indices = fleet.workload.indices[robot_id]
        self._report = report
        self._norms = LocalNorms() if fleet.config.federation.fedbn else None

    def check(self, blob, *, source: str):
        """The state in `blob` if it is `source`'s signed, well-formed model of the round it names
        (the global model, or the robot's coordinator's seed); BlobRejected otherwise."""
        verdict = SubmissionGuard(keys={source: self.keys[source]}, spec=self.fleet.spec).check_fetched(
            wire_blob(blob), round_id=blob.round)
        if not verdict.accepted:
            raise BlobRejected(f'fetched model refused: {verdict.message}')
        return verdict.state

    def record_received(self, blob) -> None:
        """Count `blob` as received by this robot (the round's traffic and timeline)."""
        self._report.transfer(round_index=blob.round, sender=blob.sender, receiver=self.robot_id,
                              payload_bytes=len(blob.payload))

    def train(self, start_state, *, epochs: int, round_index: int, role: str,
              prior_steps: float = 0.0, purpose: str = 'train') -> ModelUpdate:
        started, cpu_started, started_at = time.perf_counter(), time.thread_time(), time.time()
        if self._norms is not None:
            start_state = self._norms.apply(self.robot_id, start_state)
        adversary = self.fleet.adversary
        update = local_update(global_state=start_state, spec=self.fleet.spec,
                              dataset=adversary.data(self.dataset, self.robot_id, round_index),
                              indices=self.indices, epochs=epochs, round_index=round_index,
                              robot_id=self.robot_id, settings=self.fleet.settings,
                              base_seed=self.fleet.seed, prior_steps=prior_steps, purpose=purpose)
        if self._norms is not None:
            self._norms.keep(self.robot_id, update.state)
        update = adversary.sent(update, start_state, base_seed=self.fleet.seed, purpose=purpose)
        self._report.training(round_index=round_index, robot_id=self.robot_id, role=role,
                              seconds=time.perf_counter() - started, cpu_seconds=time.thread_time() - cpu_started,
                              started_at=started_at, ended_at=time.time())
        return update

    def fit_loss(self, round_index: int):
        """A model state's mean loss on this robot's data as it trains on it in `round_index`: the
        coordinator's fit check (None when the fleet's defences leave it off)."""
        if self.fleet.config.defences.fit_ratio is None:
            return None
        return self._loss_on(round_index)

    def seed_loss(self, seed_state, *, round_index: int) -> float:
        """The loss of its coordinator's seed on this robot's data, as the robot reports it to the
        server's seed check (an attacking robot lies: Adversary.reported)."""
        loss = self._loss_on(round_index)(seed_state)
        return self.fleet.adversary.reported(self.robot_id, round_index, loss)

    def _loss_on(self, round_index: int):
        return loss_on(self.fleet.spec, self.fleet.adversary.data(self.dataset, self.robot_id, round_index),
                       self.indices, device=self.fleet.settings.device)

    def blob_of(self, update: ModelUpdate, *, version: int):
        encoded = self.fleet.encode(update.state)
        header = BlobHeader(sender=self.robot_id, architecture=self.fleet.spec.arch,
                            round_index=update.round_index, version=version,
                            sample_count=update.sample_count, local_steps=update.local_steps)
        return make_blob(encoded.payload, header=header, encoding=encoded.encoding,
                         metadata_json=encoded.metadata_json, sha256=encoded.sha256,
                         key=self.keys[self.robot_id])
