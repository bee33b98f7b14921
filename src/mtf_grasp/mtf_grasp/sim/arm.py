"""A UR5e-like 6-DoF arm as MJCF (the project's own model), with the parallel gripper on its flange.

Link offsets follow the UR5e's published kinematics (base 0.1625 m, upper arm 0.425 m, forearm
0.3922 m, wrist offsets 0.1333 / 0.0997 / 0.0996 m: about 0.85 m reach), joint limits are the
UR5e's (±2π, elbow ±π), torque limits 150 N·m on the three big joints and 28 N·m on the wrists.
The zero configuration stands the arm straight up. Links are capsules and cylinders of UR-like
radii. Links collide with the table and the objects but not with each other (the controller
keeps to top-down poses far from self-contact); every link is gravity-compensated, as the real
arm's controller does, and each joint is a force-limited position servo.

The arm base sits on the table top, with the same axes as the world; `base_link` is that frame.
"""
from __future__ import annotations

import math

from mtf_grasp.sim.gripper import HIDDEN_GROUP, hand_xml

BASE_POSITION = (-0.45, 0.0, 0.0)       # world position of base_link (the table top is z = 0)
JOINTS = ('shoulder_pan_joint', 'shoulder_lift_joint', 'elbow_joint',
          'wrist_1_joint', 'wrist_2_joint', 'wrist_3_joint')
TWO_PI = 6.283185
LIMITS = ((-TWO_PI, TWO_PI), (-TWO_PI, TWO_PI), (-3.141593, 3.141593),
          (-TWO_PI, TWO_PI), (-TWO_PI, TWO_PI), (-TWO_PI, TWO_PI))
TORQUE = (150.0, 150.0, 150.0, 28.0, 28.0, 28.0)
KP = (4000.0, 4000.0, 3000.0, 600.0, 600.0, 600.0)          # N·m/rad
DAMPING = (150.0, 150.0, 100.0, 20.0, 20.0, 20.0)           # N·m·s/rad
TOOL_SITE = 'tool'          # fingertip centre; z = approach (down the fingers), x = closing axis
FLANGE_TO_TIPS = 0.095      # coupling + palm + fingers, along the flange normal

# Links: contype 2 / conaffinity 1 touches the table and objects (1/1) but not other links.
_LINK = f'contype="2" conaffinity="1" group="{HIDDEN_GROUP}" rgba=".7 .72 .75 1"'


def _joint(index: int, axis: str) -> str:
    lo, hi = (math.degrees(v) for v in LIMITS[index])     # MJCF angles are in degrees by default
    return (f'<joint name="{JOINTS[index]}" axis="{axis}" range="{lo:.4f} {hi:.4f}" '
            f'damping="{DAMPING[index]}" armature="{0.2 if index < 3 else 0.05}"/>')


def arm_xml() -> tuple[str, str]:
    """(worldbody fragment, actuator + contact fragment) for `mjcf.scene_xml(robot=...)`."""
    hand, fingers, exclude = hand_xml()
    bx, by, bz = BASE_POSITION
    body = f'''<body name="base_link" pos="{bx} {by} {bz}">
<geom name="arm_base" type="cylinder" size="0.075 0.04" pos="0 0 0.042" {_LINK}/>
<body name="shoulder_link" pos="0 0 0.1625" gravcomp="1">{_joint(0, "0 0 1")}
<geom type="cylinder" size="0.06 0.065" {_LINK}/>
<body name="upper_arm_link" pos="0 0.138 0" gravcomp="1">{_joint(1, "0 1 0")}
<geom type="capsule" fromto="0 0 0 0 0 0.425" size="0.054" {_LINK}/>
<body name="forearm_link" pos="0 -0.131 0.425" gravcomp="1">{_joint(2, "0 1 0")}
<geom type="capsule" fromto="0 0 0 0 0 0.3922" size="0.045" {_LINK}/>
<body name="wrist_1_link" pos="0 0 0.3922" gravcomp="1">{_joint(3, "0 1 0")}
<geom type="cylinder" fromto="0 -0.01 0 0 0.1 0" size="0.045" {_LINK}/>
<body name="wrist_2_link" pos="0 0.127 0" gravcomp="1">{_joint(4, "0 0 1")}
<geom type="cylinder" fromto="0 0 0.02 0 0 0.0997" size="0.045" {_LINK}/>
<body name="wrist_3_link" pos="0 0 0.0997" gravcomp="1">{_joint(5, "0 1 0")}
<geom type="cylinder" fromto="0 0 0 0 0.0996 0" size="0.04" {_LINK}/>
<body name="hand" pos="0 {0.0996 + FLANGE_TO_TIPS} 0" quat="0.7071068 0.7071068 0 0" gravcomp="1">
<geom name="coupling" type="cylinder" fromto="0 0 0.065 0 0 {FLANGE_TO_TIPS}" size="0.035" {_LINK}/>
<site name="{TOOL_SITE}" quat="0 1 0 0" size="0.005" group="{HIDDEN_GROUP}"/>
{hand}
</body></body></body></body></body></body></body></body>'''
    servos = ''.join(f'<position name="{j}" joint="{j}" kp="{kp}" forcerange="-{t} {t}"/>'
                     for j, kp, t in zip(JOINTS, KP, TORQUE))
    return body, f'<actuator>{servos}{fingers}</actuator><contact>{exclude}</contact>'
