"""Where a model's best `deploy` grasp lands on each frame, beside the centre of its labels.

Under the inference node's detector (fixed crop, workspace), for each sample: the best grasp
(source pixels, angle in degrees, opening length) and the mean centre of the labelled rectangles.
It shows what a score alone hides: a detector drawn to one spot (a crop edge, a wall corner) puts
its best grasp there frame after frame.

    python benchmarks/best_grasps.py --model runs/i17_after/model.safetensors --data ../shared/data/cornell-dev \\
        --crop 170,90,300 --max-height 0.25 [--roi 170,90,470,390] [--edge-margin 0.08] --out FILE.json
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from mtf_grasp.commands.evaluate import node_detector
from mtf_grasp.grasping import CropRule, load_model, open_dataset
from mtf_grasp.perception import WorkspaceSettings


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--crop', required=True, help='x0,y0,side of the deploy crop (source px)')
    p.add_argument('--roi', help='workspace region x0,y0,x1,y1')
    p.add_argument('--max-height', type=float, default=0.0)
    p.add_argument('--edge-margin', type=float, default=0.0)
    p.add_argument('--out', required=True)
    args = p.parse_args()
    x0, y0, side = (int(v) for v in args.crop.split(','))
    roi = tuple(int(v) for v in args.roi.split(',')) if args.roi else None
    model, spec, _ = load_model(args.model, device='cpu')
    rule = CropRule.for_protocol('deploy', side=side, x0=x0, y0=y0)
    ds = open_dataset(args.data, spec=spec, crop=rule, progress=False)
    workspace = WorkspaceSettings(roi=roi, max_height_m=args.max_height, edge_margin=args.edge_margin)
    detector = node_detector(model, 'torch', 'fp32', 'cpu', top_k=1, calibration=iter(()), crop=rule.fixed_crop,
                             workspace=workspace)
    frames = []
    for i in range(len(ds)):
        sample, labels = ds.sample(i), ds.source_rects(i)
        grasps = detector.detect(sample.rgb, sample.depth).grasps
        best = grasps[0] if grasps else None
        frames.append({'sample': ds.names[i],
                       'best': None if best is None else {'x': round(best.cx), 'y': round(best.cy),
                                                          'angle_deg': round(math.degrees(best.angle)),
                                                          'length': round(best.length)},
                       'labels_centre': [round(float(v)) for v in np.mean([(r.cx, r.cy) for r in labels], axis=0)]})
    spots = Counter((f['best']['x'], f['best']['y']) for f in frames if f['best'])
    (spot, count), = spots.most_common(1)
    summary = {'frames': len(frames), 'most_common_best': list(spot), 'frames_there': count}
    print(json.dumps(summary))
    Path(args.out).write_text(json.dumps({'command': ' '.join(sys.argv), 'summary': summary, 'frames': frames},
                                         indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
