"""A parallel two-finger gripper (Franka-hand-like sizes) as an MJCF fragment.

The hand is a free body welded (stiffly, but through the constraint solver) to a mocap target
that the trial moves like an arm under position control: the hand then has real velocities, which
MuJoCo's velocity-level friction needs to carry an object. Each finger is a slide joint driven by
a force-limited position actuator. Its geoms sit in a render group that
the camera hides, so the gripper never shows up in images.
"""
from __future__ import annotations

from dataclasses import dataclass

HIDDEN_GROUP = 3


@dataclass(frozen=True)
class GripperGeometry:
    max_opening: float = 0.085      # m between the finger pads
    finger_thickness: float = 0.008
    jaw_width: float = 0.02         # finger pad size across the opening direction
    finger_length: float = 0.045
    grip_force: float = 25.0        # N per finger, actuator force limit


GRIPPER = GripperGeometry()


def hand_xml(g: GripperGeometry = GRIPPER) -> tuple[str, str, str]:
    """(palm + fingers, to go inside a body named `hand`; finger actuators; contact exclusions).
    Hand origin = centre between the fingertips; its z axis points up (away from the table), x is
    the opening direction. The floating hand below and the arm's flange (sim/arm.py) both use it."""
    t, w, length = g.finger_thickness / 2, g.jaw_width / 2, g.finger_length / 2
    half_open = g.max_opening / 2
    finger = ('<body name="finger_{s}" gravcomp="1"><joint name="finger_{s}" type="slide" axis="{a} 0 0" '
              f'range="0 {half_open}" damping="20" armature="0.01"/>'
              '<geom name="finger_{s}" type="box" size="{t} {w} {l}" pos="{x} 0 {l}" mass="0.05" '
              f'group="{HIDDEN_GROUP}" condim="4" friction="1.2 0.02 0.0001" rgba=".2 .2 .2 1"/></body>')
    body = (f'<geom name="palm" type="box" size="{half_open + 2 * t} {w + 0.01} 0.01" '
            f'pos="0 0 {2 * length + 0.01}" group="{HIDDEN_GROUP}" rgba=".3 .3 .3 1"/>'
            + finger.format(s='r', a=1, t=t, w=w, l=length, x=t)
            + finger.format(s='l', a=-1, t=t, w=w, l=length, x=-t))
    actuators = ''.join(f'<position name="finger_{s}" joint="finger_{s}" kp="3000" ctrlrange="0 {half_open}" '
                        f'forcerange="-{g.grip_force} {g.grip_force}"/>' for s in 'rl')
    return body, actuators, '<exclude body1="finger_r" body2="finger_l"/>'


def gripper_xml(g: GripperGeometry = GRIPPER) -> tuple[str, str]:
    """(worldbody fragment, actuator + contact + equality fragment) of the floating hand."""
    hand, fingers, exclude = hand_xml(g)
    body = ('<body name="hand_target" mocap="true" pos="0 0 1.5"/>'
            f'<body name="hand" pos="0 0 1.5" gravcomp="1"><freejoint name="hand"/>{hand}</body>')
    actuators = (f'<actuator>{fingers}</actuator><contact>{exclude}</contact>'
                 '<equality><weld body1="hand_target" body2="hand" solref="0.005 1"/></equality>')
    return body, actuators
