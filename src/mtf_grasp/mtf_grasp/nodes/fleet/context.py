"""What a fleet node takes from the experiment config: model, local training, epochs, tiers, data.

Every node loads the same experiment YAML (with the fleet's overrides) and the same partition
manifest, and calls the same core functions as `mtf-grasp experiment`, so the fleet's global model
equals the experiment's for one config, seed and dataset. Nodes of one process (robot_group) share
one context, so a process of many robots opens the dataset once.
"""
from __future__ import annotations

import dataclasses
import json
from functools import cached_property
from pathlib import Path

from mtf_grasp.errors import InputError
from mtf_grasp.fleet import streaming_conflict


# The parameters a context depends on: equal for every node of one fleet.
_SHARED_BY = ('experiment', 'quick', 'seed', 'data_root', 'method', 'manifest', 'attacks', 'aggregation')
_shared: dict[tuple, 'FleetContext'] = {}


class FleetContext:
    def __init__(self, *, params, config):
        self.params = params
        self.config = config

    @classmethod
    def load(cls, params) -> 'FleetContext':
        """The context of `params`: the one an earlier node of this process loaded for the same
        experiment, data, method and partition, or a new one."""
        key = tuple(str(getattr(params, name)) for name in _SHARED_BY)
        if key not in _shared:
            _shared[key] = cls._load(params)
        return _shared[key]

    @classmethod
    def _load(cls, params) -> 'FleetContext':
        from mtf_grasp.federated.config import load_experiment_config

        if not params.experiment:
            raise InputError('parameter experiment is empty: give the experiment YAML')
        config = load_experiment_config(params.experiment, quick=params.quick,
                                        seed=params.seed if params.seed >= 0 else None)
        if params.data_root:
            config = dataclasses.replace(config, data=dataclasses.replace(config.data, root=params.data_root))
        conflict = streaming_conflict(config.defences) if params.aggregation == 'streaming' else None
        if conflict:
            raise InputError(f'parameter {conflict}')
        return cls(params=params, config=config)

    @property
    def streaming(self) -> bool:
        """Whether this node folds a round's models as they are admitted (inbox.py)."""
        return self.params.aggregation == 'streaming'

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
    def continuation_epochs(self) -> int:
        return self.config.continuation_epochs(self.params.method)

    @property
    def tier_reading(self) -> str:
        return self.config.federation.tier_aggregate

    @property
    def settings(self):
        return self.config.training_for(self.params.method)

    @cached_property
    def adversary(self):
        """The attacks this fleet replays (parameter `attacks`, robot ids resolved by the fleet plan)."""
        from mtf_grasp.federated.attacks import Adversary, parse_attack

        try:
            return Adversary(tuple(parse_attack(text) for text in self.params.attacks))
        except ValueError as exc:
            raise InputError(f'parameter attacks: {exc}') from None

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

    def plan(self, profiles, *, round_index: int, ineligible: frozenset[str] = frozenset()):
        """The experiment's plan, computed from the profiles the robots registered; robots in
        `ineligible` (caught by a defence) are never top-level."""
        from mtf_grasp.federated.experiment import plan_for

        registered = dataclasses.replace(self.workload, profiles=list(profiles))
        return plan_for(self.params.method, round_index, self.config, registered, ineligible=ineligible)

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

    def checkpoint(self, directory: str, state, *, round_index: int, sha256: str, previous_sha256: str,
                   accuracy: float) -> None:
        """`round_NNNN.safetensors` (a model file `mtf-grasp evaluate` reads) and `latest.json`
        staged beside it; `commit_checkpoint` makes it the one a restarted server resumes from.

        Each records its model's wire sha256 and that of the global model the round started
        from, so the checkpoints form a hash chain a restarted server continues."""
        if not directory:
            return
        from mtf_grasp.grasping import save_model, state_to_model

        path = Path(directory) / f'round_{round_index:04d}.safetensors'
        meta = {'round': round_index, 'version': round_index + 1, 'sha256': sha256,
                'previous_sha256': previous_sha256, 'accuracy': accuracy, 'method': self.params.method}
        save_model(path, state_to_model(dict(state), self.spec), self.spec, extra_meta=meta)
        _staged_latest(directory).write_text(json.dumps({**meta, 'file': path.name}, indent=2) + '\n')

    @staticmethod
    def commit_checkpoint(directory: str) -> None:
        """The staged checkpoint becomes `latest.json` in one rename: a server killed before it
        resumes from the previous round and plays this one again, one killed while writing leaves
        the old file whole."""
        if directory:
            _staged_latest(directory).replace(Path(directory) / 'latest.json')

    def resume_point(self, directory: str):
        """(next round, its global state, that state's sha256) from the latest checkpoint in
        `directory`, or round 0 and the initial model when there is none. The checkpoint's model
        must still hash to what was recorded when it was written."""
        latest = Path(directory) / 'latest.json' if directory else None
        if latest is None or not latest.exists():
            state = self.initial_state()
            return 0, state, self.encode(state).sha256
        from safetensors.torch import load_file

        meta = json.loads(latest.read_text())
        if meta.get('method') != self.params.method:
            raise InputError(f'{latest}: checkpoints of method {meta.get("method")!r}, this fleet runs '
                             f'{self.params.method!r}; use another run directory')
        path = Path(directory) / meta['file']
        state = load_file(str(path))
        sha256 = self.encode(state).sha256
        if sha256 != meta['sha256']:
            raise InputError(f'{path}: model hashes to {sha256[:12]}, {latest.name} recorded '
                             f'{meta["sha256"][:12]}; refusing to resume from a damaged checkpoint')
        return meta['round'] + 1, state, sha256

    def previous_global(self, directory: str):
        """The global model the latest checkpoint's round started from (the initial model or the
        checkpoint before), for an audit's last step after a restart; None when there is no
        checkpoint, or that model is not on disk or does not hash to the recorded `previous_sha256`."""
        latest = Path(directory) / 'latest.json' if directory else None
        if latest is None or not latest.exists():
            return None
        from safetensors.torch import load_file

        meta = json.loads(latest.read_text())
        path = Path(directory) / f'round_{meta["round"] - 1:04d}.safetensors'
        state = self.initial_state() if meta['round'] == 0 else load_file(str(path)) if path.exists() else None
        if state is None or self.encode(state).sha256 != meta['previous_sha256']:
            return None
        return state


def _staged_latest(directory: str) -> Path:
    return Path(directory) / 'latest.tmp'
