"""A tiny Jacquard-layout dataset, fleet/experiment configs and the experiment's own result, for
the fleet tests (real files)."""
from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml


def write_jacquard_boxes(root: Path, *, samples: int, size: int = 64, seed: int = 0) -> Path:
    """Top-down depth/RGB of one rotated box per image on a table, grasped across its short side."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(samples):
        cx, cy = rng.uniform(0.35, 0.65, 2) * size
        length, width = rng.uniform(0.25, 0.4) * size, rng.uniform(0.08, 0.15) * size
        angle = rng.uniform(-90, 90)
        box = cv2.boxPoints(((cx, cy), (length, width), angle)).astype(np.int32)
        depth = np.full((size, size), 0.6, np.float32)
        cv2.fillPoly(depth, [box], 0.55)
        rgb = np.full((size, size, 3), 200, np.uint8)
        cv2.fillPoly(rgb, [box], tuple(int(c) for c in rng.integers(0, 255, 3)))
        name = f'{i:04d}_obj{i % 5}'  # <view>_<object>: 5 object classes
        cv2.imwrite(str(root / f'{name}_RGB.png'), rgb)
        cv2.imwrite(str(root / f'{name}_perfect_depth.tiff'), depth)
        # Perpendicular to the long side (OpenCV turns it by `angle`, y down), wrapped to [-90°, 90°).
        grasp_angle = (-angle) % 180 - 90
        (root / f'{name}_grasps.txt').write_text(f'{cx:.2f};{cy:.2f};{grasp_angle:.2f};{width * 1.6:.2f};{width:.2f}\n')
    return root


def roster(robots: int) -> dict[str, str]:
    """The server and robot_0..robot_{n-1}, keys generated under the run directory."""
    return {member: f'keys/{member}.key' for member in ['server', *(f'robot_{i}' for i in range(robots))]}


def write_configs(directory: Path, *, data: Path, robots: int = 4, rounds: int = 2,
                  method: str = 'mtf_avg', input_size: int = 32, faults: dict | None = None,
                  transport: dict | None = None, federation: dict | None = None,
                  defences: dict | None = None) -> Path:
    """An experiment config and a fleet config running it; returns the fleet config path."""
    experiment = {
        'name': 'fleet-test', 'seed': 3, 'methods': [method], 'torch_threads': 1,
        'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': input_size},
        'data': {'root': str(data), 'labeller': 'angle', 'test_fraction': 0.25},
        'partition': {'robots': robots, 'beta': 0.7, 'min_samples': 4},
        'federation': {'rounds': rounds, 'top_level': 2, 'seed_epochs': 1, 'local_epochs': 1, **(federation or {})},
        'training': {'lr': 0.001, 'batch_size': 8},
        **({'defences': defences} if defences else {}),
    }
    (directory / 'experiment.yaml').write_text(yaml.safe_dump(experiment))
    fleet = {'experiment': 'experiment.yaml', 'method': method, 'roster': roster(robots),
             'transport': {'service_timeout_s': 30, 'round_timeout_s': 120, 'registration_timeout_s': 120,
                           **(transport or {})},
             'faults': {'round_deadline_s': 100, 'tier_deadline_s': 80, **(faults or {})}}
    path = directory / 'fleet.yaml'
    path.write_text(yaml.safe_dump(fleet))
    return path


def experiment_rounds(experiment: Path, manifest: Path, method: str, crashes: dict | None = None,
                      attacks=(), events: list | None = None):
    """What `mtf-grasp experiment` computes for `method` (with `--crash` for each {round: robots} in
    `crashes`, and `--attack` for each of `attacks`): its round function, wire and evaluation, with
    the config's torch threads, as every node uses. The defences' decisions go to `events`, a list
    per round. Returns (final state, accuracies, robots' bytes)."""
    from mtf_grasp.federated.attacks import parse_attack
    from mtf_grasp.federated.config import load_experiment_config
    from mtf_grasp.federated.experiment import FederatedRounds, accuracy_on_test_set, initial_state, resolve_attacks
    from mtf_grasp.federated.simulation import Wire
    from mtf_grasp.federated.traffic import TrafficLedger
    from mtf_grasp.federated.workload import prepare_workload

    config = load_experiment_config(experiment)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    try:
        workload = prepare_workload(config, manifest=manifest)
        adversary = resolve_attacks([parse_attack(text) for text in attacks], config=config, workload=workload)
        wire = Wire(spec=config.model, dtype=config.federation.encoding, ledger=TrafficLedger())
        crashed = {index: frozenset(robots) for index, robots in (crashes or {}).items()}
        runner = FederatedRounds(method, config=config, workload=workload, wire=wire, crashes=crashed,
                                 adversary=adversary)
        state, accuracies = initial_state(config), []
        for index in range(config.federation.rounds):
            state, _, decided = runner.step(state, index)
            if events is not None:
                events.append(decided)
            accuracies.append(accuracy_on_test_set(state, config, workload))
    finally:
        torch.set_num_threads(threads)
    sent = [sum(r['sent'] for r in wire.ledger.round_summary(i)['robots'].values()) for i in range(len(accuracies))]
    return state, accuracies, sent


def fleet_final_state(run_dir: Path, rounds: int):
    """The global model the fleet checkpointed after its last round."""
    from mtf_grasp.grasping import load_model

    return load_model(run_dir / 'checkpoints' / f'round_{rounds - 1:04d}.safetensors')[0].state_dict()


def assert_same_state(actual, expected) -> None:
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        torch.testing.assert_close(actual[name], value, rtol=1e-5, atol=1e-6, msg=name)


def run_fleet(ros_processes, config: Path, out: Path, *, timeout_s: float = 240, rounds: int | None = None,
              more: list[str] = ()):
    more = [*more, *(['--rounds', str(rounds)] if rounds is not None else [])]
    proc = ros_processes.start([sys.executable, '-m', 'mtf_grasp.cli', 'fleet', '--config', str(config),
                                '--out', str(out), '--quiet', '--timeout', str(timeout_s), *more], name='fleet')
    proc.wait(timeout=timeout_s + 30)
    assert proc.returncode == 0, ros_processes.log(proc)[-3000:]
    return json.loads((out / 'summary.json').read_text())


def finish(supervisor, timeout_s: float = 180) -> dict:
    """Wait for the server to write its summary and exit 0 (any other node failing fails the test)."""
    server = supervisor.children['fl_server'].proc
    robots_may_end = [name for name, child in supervisor.children.items() if not child.expected_exit]
    supervisor.wait(finished=robots_may_end, until=lambda: server.poll() == 0, timeout=timeout_s)
    return json.loads((supervisor.workdir / 'summary.json').read_text())


def planned_round(experiment: Path, manifest: Path, method: str, round_index: int):
    """The core's plan of a round for the fleet's partition (what the server computes)."""
    from mtf_grasp.federated.config import load_experiment_config
    from mtf_grasp.federated.experiment import plan_for
    from mtf_grasp.federated.workload import prepare_workload

    config = load_experiment_config(experiment)
    return plan_for(method, round_index, config, prepare_workload(config, manifest=manifest))


def check_hash_chain(run_dir: Path, experiment: Path) -> list[dict]:
    """Every checkpoint holds finite weights that hash to the sha256 it recorded, and names as its
    predecessor the checkpoint before it (round 0: the initial model). Returns their metadata."""
    from safetensors.torch import load_file

    from mtf_grasp.federated import encode_state
    from mtf_grasp.federated.config import load_experiment_config
    from mtf_grasp.federated.experiment import initial_state
    from mtf_grasp.grasping.model_file import read_model_meta

    config = load_experiment_config(experiment)
    dtype = config.federation.encoding
    previous = encode_state(initial_state(config), spec=config.model, dtype=dtype).sha256
    chain = []
    for index, path in enumerate(sorted((run_dir / 'checkpoints').glob('round_*.safetensors'))):
        meta = read_model_meta(path)
        state = load_file(str(path))
        assert meta['round'] == index, path
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()), path
        assert encode_state(state, spec=config.model, dtype=dtype).sha256 == meta['sha256'], path
        assert meta['previous_sha256'] == previous, f'{path} does not continue the chain'
        previous = meta['sha256']
        chain.append(meta)
    latest = json.loads((run_dir / 'checkpoints' / 'latest.json').read_text())
    assert latest['sha256'] == previous and latest['round'] == len(chain) - 1
    return chain


def fleet_matches_experiment(ros_processes, directory: Path, *, attacks=(), events: list | None = None,
                             robots: int = 4, rounds: int = 2, samples: int = 40, **configs) -> dict:
    """Runs a `robots`-robot (4), `rounds`-round (2) MTF-Grasp-Avg fleet from `write_configs(**configs)`
    with `--attack` for each of `attacks`, checks that it ends with the experiment's model, accuracies
    and bytes, and returns its summary; the experiment's defence decisions go to `events` (a list per
    round)."""
    data = write_jacquard_boxes(directory / 'data', samples=samples)
    config = write_configs(directory, data=data, robots=robots, rounds=rounds, **configs)
    summary = run_fleet(ros_processes, config, directory / 'run', more=[f'--attack={a}' for a in attacks])
    state, accuracies, sent = experiment_rounds(directory / 'experiment.yaml', directory / 'run' / 'partition.json',
                                                'mtf_avg', attacks=attacks, events=events)
    assert_same_state(fleet_final_state(directory / 'run', rounds), state)
    assert [r['global_accuracy'] for r in summary['rounds']] == pytest.approx(accuracies)
    assert [r['bytes_sent'] for r in summary['rounds']] == sent
    assert_round_timelines(summary)
    return summary


def assert_round_timelines(summary: dict) -> None:
    """Each round splits along a causal chain of records from several processes, every one found:
    no segment runs backwards (beyond the clock's jitter). (They add up to the round's wall-clock
    span by construction; `duration_s`, on the monotonic clock, can differ from it by a step of the
    wall clock.)"""
    for record in summary['rounds']:
        timeline = record['timeline']
        assert timeline is not None, f"round {record['round']}: a record on its chain is missing"
        assert min(timeline.values()) > -0.02, timeline


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def scale_out(config, **fields) -> None:
    """Add fleet-config fields (robots_per_process, discovery) to a fleet YAML."""
    config.write_text(yaml.safe_dump({**yaml.safe_load(config.read_text()), **fields}))
