"""Models trained on SimGrasp only, scored on held-out SimGrasp and zero-shot on real Cornell frames.

Each `--model NAME=DIR` is the `--out` folder of one `mtf-grasp train` run (model.safetensors and
history.json). Every model is scored with the same thirteen `mtf-grasp evaluate` commands, run as a
user would run them; the JSON keeps each command, its full output (accuracy, successes) and the
training run's epochs and seconds, so a table row can be traced to the run that made it.

    python benchmarks/real_camera.py --model before=runs/i17_before --model after=runs/i17_after \\
        --tabletop data/simgrasp_1300 --real data/simgrasp_real_500 --cornell ../shared/data/cornell-dev \\
        --out docs/results/real_camera_idle.json

Held-out SimGrasp is scenes 400-499 of each dataset (the runs train on 0-399); Cornell is scored
with its published protocol (crop centred on the labels, 224 and 300 px) and with the inference
node's `deploy` crop, with and without a workspace; the `_edge` columns add the workspace's edge
margin (docs/grasp-learning.md says what each does).
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

from mtf_grasp.grasping.device import describe_machine

DEPLOY_300 = ('--protocol', 'deploy', '--crop-size', '300', '--crop-x0', '170', '--crop-y0', '90')
BAND = ('--max-height', '0.25')
EDGE = ('--edge-margin', '0.08')     # 9 of 112 model pixels: grasp_inference's workspace_edge_margin


def columns(tabletop: str, real: str, cornell: str) -> dict[str, tuple[str, ...]]:
    """Each column's `mtf-grasp evaluate` arguments after `--model`."""
    return {
        'simgrasp_tabletop_heldout': ('--data', tabletop, '--samples', '400:500', '--protocol', 'deploy'),
        'simgrasp_real_heldout': ('--data', real, '--samples', '400:500', '--protocol', 'deploy'),
        'cornell_dev_cornell224': ('--data', cornell, '--protocol', 'cornell'),
        'cornell_dev_cornell300': ('--data', cornell, '--protocol', 'cornell', '--crop-size', '300'),
        'cornell_dev_deploy': ('--data', cornell, '--protocol', 'deploy'),
        'cornell_dev_deploy_band': ('--data', cornell, '--protocol', 'deploy', *BAND),
        'cornell_dev_deploy300_band': ('--data', cornell, *DEPLOY_300, *BAND),
        'cornell_dev_deploy300_roi_band': ('--data', cornell, *DEPLOY_300, '--workspace-roi', '170,90,470,390', *BAND),
        'simgrasp_tabletop_heldout_edge': ('--data', tabletop, '--samples', '400:500', '--protocol', 'deploy', *EDGE),
        'simgrasp_real_heldout_edge': ('--data', real, '--samples', '400:500', '--protocol', 'deploy', *EDGE),
        'cornell_dev_deploy_band_edge': ('--data', cornell, '--protocol', 'deploy', *BAND, *EDGE),
        'cornell_dev_deploy300_band_edge': ('--data', cornell, *DEPLOY_300, *BAND, *EDGE),
        'cornell_dev_deploy300_roi_band_edge': ('--data', cornell, *DEPLOY_300, '--workspace-roi', '170,90,470,390',
                                                *BAND, *EDGE),
    }


def evaluate(model: Path, arguments: tuple[str, ...]) -> dict:
    command = ['mtf-grasp', 'evaluate', '--model', str(model), *arguments, '--json']
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f'real_camera: {shlex.join(command)} failed: {done.stderr.strip()[-500:]}')
    return {'command': shlex.join(command), **json.loads(done.stdout)}


def training_of(run: Path) -> dict:
    history = json.loads((run / 'history.json').read_text())
    return {'epochs_reached': len(history['epochs']), 'epochs_configured': history['config']['epochs'],
            'train_seconds': history['seconds'], 'threads': history['threads'], 'data': history['data'],
            'train_samples': history['train_samples'], 'spec': history['spec'], 'config': history['config']}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', action='append', required=True, metavar='NAME=DIR',
                   help='a `mtf-grasp train --out` folder, named (repeat)')
    p.add_argument('--tabletop', required=True, help='the table-top SimGrasp dataset (scenes 400-499 held out)')
    p.add_argument('--real', required=True, help='the `--preset real` SimGrasp dataset (scenes 400-499 held out)')
    p.add_argument('--cornell', required=True, help='real Cornell samples')
    p.add_argument('--note', default='', help='where and how the runs were made (load, commands)')
    p.add_argument('--out', required=True)
    args = p.parse_args(argv)
    runs = []
    for item in args.model:
        name, _, folder = item.partition('=')
        if not folder or not (Path(folder) / 'model.safetensors').is_file():
            p.error(f'--model {item}: not NAME=DIR with DIR/model.safetensors')
        scores = {column: evaluate(Path(folder) / 'model.safetensors', arguments)
                  for column, arguments in columns(args.tabletop, args.real, args.cornell).items()}
        runs.append({'name': name, 'run': folder, 'training': training_of(Path(folder)), 'evaluations': scores})
        print(f'{name}: ' + ', '.join(f'{c} {s["accuracy"]:.2f}' for c, s in scores.items()), flush=True)
    result = {'machine': describe_machine('cpu', 'auto'), 'note': args.note, 'runs': runs}
    Path(args.out).write_text(json.dumps(result, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
