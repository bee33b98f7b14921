"""`mtf-grasp train`, `evaluate` and `export-onnx` run as the user runs them: a separate process."""
import json
import subprocess
import sys

import pytest


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


TINY = """model: {arch: grconvnet, channels: rgbd, width: 8, input_size: 32}
epochs: 2
batch_size: 4
lr: 0.003
device: cpu
samples: ':16'
val_samples: '16:'
"""


@pytest.mark.slow
def test_train_evaluate_export(tmp_path, simgrasp_small):
    config = tmp_path / 'train.yaml'
    config.write_text(TINY)
    out = tmp_path / 'run'
    done = cli('train', '--config', config, '--data', simgrasp_small, '--out', out, '--epochs', 3, '--json')
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary['epochs'] == 3 and summary['train_samples'] == 16 and summary['val_samples'] == 8
    history = json.loads((out / 'history.json').read_text())
    assert [e['epoch'] for e in history['epochs']] == [1, 2, 3]
    assert all(0 <= e['val_accuracy'] <= 1 for e in history['epochs'])
    assert (out / 'learning_curve.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

    done = cli('evaluate', '--model', out / 'model.safetensors', '--data', simgrasp_small, '--samples', '16:',
               '--top-k', 2, '--json')
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result['samples'] == 8 and result['top_k'] == 2 and 0 <= result['accuracy'] <= 1
    # As grasp_inference runs it: onnxruntime gives the torch figure; int8 runs and says so. The
    # two runtimes' maps differ by float rounding, which can flip a sample on the metric's edge.
    for precision in ('fp32', 'int8'):
        done = cli('evaluate', '--model', out / 'model.safetensors', '--data', simgrasp_small, '--samples', '16:',
                   '--top-k', 2, '--backend', 'onnxruntime', '--precision', precision, '--json')
        assert done.returncode == 0, done.stderr
        runtime = json.loads(done.stdout)
        assert (runtime['backend'], runtime['precision'], runtime['samples']) == ('onnxruntime', precision, 8)
        assert precision == 'int8' or abs(runtime['accuracy'] - result['accuracy']) <= 1 / result['samples']

    done = cli('export-onnx', '--model', out / 'model.safetensors', '--out', tmp_path / 'm.onnx', '--json')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)['max_abs_diff'] < 1e-4
    impossible = cli('export-onnx', '--model', out / 'model.safetensors', '--out', tmp_path / 'm2.onnx',
                     '--tolerance', -1)
    assert impossible.returncode == 1 and 'OVER tolerance' in impossible.stdout


@pytest.mark.parametrize('args, message', [
    (['evaluate', '--model', 'nowhere.safetensors', '--data', '.'], 'nowhere.safetensors: no such model file'),
    (['evaluate', '--model', 'nowhere.safetensors', '--data', '.', '--precision', 'int8'],
     'precision int8 needs backend onnxruntime (backend torch runs fp32 and bf16)'),
    (['train', '--config', 'bad.yaml', '--data', '.', '--out', 'o'], "bad.yaml.model.width: expected an integer"),
    (['train', '--config', 'ok.yaml', '--data', 'nodata', '--out', 'o'], 'nodata: no such dataset directory'),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / 'bad.yaml').write_text('model: {width: sixteen}\n')
    (tmp_path / 'ok.yaml').write_text(TINY)
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert 'Traceback' not in done.stderr


def test_malformed_grasp_line_names_file_and_line(tmp_path, simgrasp_small):
    import shutil
    root = shutil.copytree(simgrasp_small, tmp_path / 'data')
    (root / '0002_0_grasps.txt').write_text('1;2;3;4;5\n\n1;2;3;4\n')
    (tmp_path / 'ok.yaml').write_text(TINY)
    done = cli('train', '--config', tmp_path / 'ok.yaml', '--data', root, '--out', tmp_path / 'o')
    assert done.returncode == 2
    assert "0002_0_grasps.txt:3: expected 'x;y;angle;opening;jaw', got '1;2;3;4'" in done.stderr
