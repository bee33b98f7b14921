"""What a fleet node takes from the experiment config: model, local training, epochs, tiers, data.

Every node loads the same experiment YAML (with the fleet's overrides) and the same partition
manifest, and calls the same core functions as `mtf-grasp experiment`, so the fleet's global model
equals the experiment's for one config, seed and dataset.
"""
from __future__ import annotations

import dataclasses
import json
from functools import cached_property
from pathlib import Path

from mtf_grasp.errors import InputError


class FleetContext:
    def __init__(self, *, params, config):
        self.params = params
        self.config = config

    @classmethod
    def load(cls, params) -> 'FleetContext':
        from mtf_grasp.federated.config import load_experiment_config

        if not params.experiment:
            raise InputError('parameter experiment is empty: give the experiment YAML')
        config = load_experiment_config(params.experiment, quick=params.quick,
                                        seed=params.seed if params.seed >= 0 else None)
        if params.data_root:
            config = dataclasses.replace(config, data=dataclasses.replace(config.data, root=params.data_root))
        return cls(params=params, config=config)

    # -- settings -------------------------------------------------------------------------------

    @property
    def spec(self):
        return self.config.model

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def data_root(self) -> str:
        return self.config.data.root

    @property
    def labeller(self) -> str:
        return self.config.data.labeller

    @property
    def seed_epochs(self) -> int:
        return self.config.epochs(self.params.method, coordinator=True)

    @property
    def local_epochs(self) -> int:
        return self.config.epochs(self.params.method)

    @property
    def settings(self):
        return self.config.training_for(self.params.method)

    @property
    def base(self) -> str:
        from mtf_grasp.federated import method_base

        return method_base(self.params.method)

    # -- data -----------------------------------------------------------------------------------

    @cached_property
    def workload(self):
        from mtf_grasp.federated.workload import prepare_workload

        return prepare_workload(self.config, manifest=self.params.manifest or None)

    def profile(self, robot_id: str):
        for profile in self.workload.profiles:
            if profile.robot_id == robot_id:
                return profile
        raise InputError(f'{self.params.manifest}: no robot {robot_id!r} in the partition')

    # -- the round ------------------------------------------------------------------------------

    def plan(self, profiles, *, round_index: int):
        """The experiment's plan, computed from the profiles the robots registered."""
        from mtf_grasp.federated.experiment import plan_for

        registered = dataclasses.replace(self.workload, profiles=list(profiles))
        return plan_for(self.params.method, round_index, self.config, registered)

    def initial_state(self):
        from mtf_grasp.federated.experiment import initial_state

        return initial_state(self.config)

    def encode(self, state):
        from mtf_grasp.federated import encode_state

        return encode_state(state, spec=self.spec, dtype=self.config.federation.encoding)

    def decode(self, payload: bytes, blob):
        from mtf_grasp.federated import decode_state

        return decode_state(payload, sha256=blob.sha256, encoding=blob.encoding, expected_spec=self.spec)

    def evaluate(self, state) -> float:
        from mtf_grasp.federated.experiment import accuracy_on_test_set

        return accuracy_on_test_set(state, self.config, self.workload)

    def checkpoint(self, directory: str, state, *, round_index: int, sha256: str, accuracy: float) -> None:
        """`round_NNNN.safetensors` (a model file `mtf-grasp evaluate` reads) and `latest.json`."""
        if not directory:
            return
        from mtf_grasp.grasping import save_model, state_to_model

        path = Path(directory) / f'round_{round_index:04d}.safetensors'
        meta = {'round': round_index, 'version': round_index + 1, 'sha256': sha256, 'accuracy': accuracy,
                'method': self.params.method}
        save_model(path, state_to_model(dict(state), self.spec), self.spec, extra_meta=meta)
        (Path(directory) / 'latest.json').write_text(json.dumps({**meta, 'file': path.name}, indent=2) + '\n')
