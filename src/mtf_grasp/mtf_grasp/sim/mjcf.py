"""MJCF text for a scene: table, free objects, camera, lights, and the hidden gripper."""
from __future__ import annotations

import math

import numpy as np

from mtf_grasp.sim.gripper import gripper_xml
from mtf_grasp.sim.scene import SceneSpec


def _f(values) -> str:
    return ' '.join(f'{float(v):.6g}' for v in values)


def _object_xml(index: int, obj) -> str:
    half = obj.yaw / 2
    geoms = ''.join(
        f'<geom name="obj{index}_{j}" type="{p.kind}" size="{_f(p.size)}" pos="{_f(p.pos)}" '
        f'rgba="{_f(obj.rgba)}"/>' for j, p in enumerate(obj.parts))
    return (f'<body name="obj{index}" pos="{_f(obj.position)}" '
            f'quat="{_f((math.cos(half), 0, 0, math.sin(half)))}">'
            f'<freejoint name="obj{index}"/>{geoms}</body>')


def scene_xml(spec: SceneSpec, *, robot: tuple[str, str] | None = None) -> str:
    """A complete MuJoCo model for `spec`; the camera is named `rgbd`. `robot`: (worldbody, rest)
    fragments of what grasps (default: the floating hand of `gripper_xml`)."""
    cam_rot = np.asarray(spec.camera.rotation)
    # MuJoCo cameras look along -z with y up; the optical frame has z forward and y down.
    xyaxes = _f([*cam_rot[:, 0], *(-cam_rot[:, 1])])
    intr, light = spec.intrinsics, spec.lighting
    hand, actuators = robot or gripper_xml()
    objects = ''.join(_object_xml(i, o) for i, o in enumerate(spec.objects))
    fixed = ''.join(f'<geom name="fixed{i}" type="box" size="{_f(b.size)}" pos="{_f(b.pos)}" rgba="{_f(b.rgba)}"/>'
                    for i, b in enumerate(spec.surroundings))
    sx, sy, sz = spec.table_size
    table_pos = _f((*spec.board_xy, -sz))
    if spec.table_texture:
        r, g, b, _ = spec.table_rgba
        assets = (f'<asset><texture name="table" type="2d" builtin="{spec.table_texture}" width="64" height="64" '
                  f'rgb1="{_f((r, g, b))}" rgb2="{_f((0.8 * r, 0.8 * g, 0.8 * b))}"/>'
                  f'<material name="table" texture="table" texrepeat="4 4"/></asset>')
        table_look = 'material="table"'
    else:
        assets, table_look = '', f'rgba="{_f(spec.table_rgba)}"'
    # extent 1: <map znear/zfar> are relative to the extent, so they become metres.
    return f"""<mujoco model="simgrasp_{spec.seed}">
<option timestep="0.002" integrator="implicitfast" cone="elliptic" impratio="5"/>
<default><geom density="400" friction="1.0 0.01 0.0001" solref="0.004 1"/></default>
<statistic extent="1" center="0 0 0"/>{assets}
<visual><global offwidth="{intr.width}" offheight="{intr.height}"/>
<headlight ambient="{_f([light.ambient] * 3)}" diffuse="0.15 0.15 0.15" specular="0 0 0"/>
<map znear="0.05" zfar="5"/><quality shadowsize="0"/></visual>
<worldbody>
<light directional="true" castshadow="false" dir="{_f(light.direction)}"
 diffuse="{_f([light.diffuse] * 3)}" specular="0.2 0.2 0.2"/>
<geom name="table" type="box" size="{_f((sx, sy, sz))}" pos="{table_pos}" {table_look}/>{fixed}
<camera name="rgbd" pos="{_f(spec.camera.position)}" xyaxes="{xyaxes}" fovy="{intr.fovy_deg:.8g}"/>
{objects}
{hand}
</worldbody>
{actuators}
</mujoco>"""
