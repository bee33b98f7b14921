"""The whole pick loop over DDS in separate processes: sim_camera -> grasp_inference ->
grasp_executor (sim arm), driven by `mtf-grasp pick-trials` on two unseen scenes. With an
untrained model the picks may fail; what is checked is that every trial ends with a reason."""
import json
import sys
from pathlib import Path

import pytest

from mtf_grasp.grasping import ModelSpec, build_model, save_model

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(300)]
CONFIG = Path(__file__).resolve().parents[2] / 'config' / 'pick.yaml'
SPEC = ModelSpec(arch='grconvnet', channels='rgbd', width=8, input_size=64)


def test_pick_trials_runs_the_nodes_end_to_end(ros_processes, tmp_path):
    model = tmp_path / 'm.safetensors'
    save_model(model, build_model(SPEC), SPEC, extra_meta={'version': 1})
    # Started like the nodes: SIGINT at teardown makes pick-trials stop the nodes it started.
    proc = ros_processes.start([sys.executable, '-m', 'mtf_grasp.cli', 'pick-trials', '--model', str(model),
                                '--trials', '2', '--config', str(CONFIG), '--real-time-factor', '0',
                                '--out', str(tmp_path / 'run'), '--json'], name='pick_trials')
    proc.wait(timeout=240)
    logs = '\n'.join(p.read_text() for p in (tmp_path / 'run' / 'logs').glob('*.log'))
    output = ros_processes.log(proc)
    assert proc.returncode == 0, output + logs
    report = json.loads(output[output.index('{'):])
    assert report['trials'] == 2 and report['executor'] == 'arm_over_ros'
    assert report['successes'] + sum(report['failures'].values()) == 2
    assert set(report['failures']) <= {'no_grasp', 'unreachable', 'collision', 'empty_grasp', 'slipped', 'timeout'}
    assert 'scene 2 (seed' in logs                  # sim_camera switched scenes twice, on the topic
