"""Draws docs/figures/fleet.png, the two-tier fleet of the README: python docs/figures/draw_fleet.py"""
from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def box(ax, x, y, text, colour):
    ax.text(x, y, text, ha='center', va='center', fontsize=9,
            bbox={'boxstyle': 'round,pad=0.4', 'fc': colour, 'ec': '#333333'})


def arrow(ax, a, b, label=''):
    ax.annotate('', xy=b, xytext=a, arrowprops={'arrowstyle': '->', 'color': '#555555', 'lw': 1.2})
    if label:
        ax.text((a[0] + b[0]) / 2 + 0.02, (a[1] + b[1]) / 2, label, fontsize=7, color='#555555')


fig, ax = plt.subplots(figsize=(8.0, 3.8))
ax.set(xlim=(0, 1), ylim=(0, 1))
ax.axis('off')
box(ax, 0.5, 0.9, 'fl_server\nranks robots by IS = λ·DDS + λ·DQS, picks j top-level robots,\naggregates cluster models (eq. 9)', '#dbe9f6')
for cx, name, members in ((0.27, 'robot_0', ('robot_2', 'robot_4', 'robot_6')), (0.73, 'robot_1', ('robot_3', 'robot_5'))):
    box(ax, cx, 0.55, f'{name}: tier_coordinator\ntrains the seed (et epochs), eq. 8', '#fde3c8')
    arrow(ax, (0.5, 0.8), (cx, 0.62), 'global model')
    for k, member in enumerate(members):
        mx = cx + (k - (len(members) - 1) / 2) * 0.15
        box(ax, mx, 0.15, f'{member}\nfl_client\nfine-tunes (er)', '#e2f0d9')
        arrow(ax, (cx, 0.48), (mx, 0.24))
ax.text(0.5, 0.01, 'every robot sends one model and receives one model per round: 2·n·|θ|, as FedAvg',
        ha='center', fontsize=8, style='italic')
fig.tight_layout()
fig.savefig(Path(__file__).with_name('fleet.png'), dpi=110)
