"""Pinhole intrinsics of the colour camera: the simulator's type, which imports no MuJoCo.

Re-exported here so arm-side code names one camera model whether frames come from a RealSense,
a bag or the simulator.
"""
from mtf_grasp.sim.camera import CameraIntrinsics

__all__ = ['CameraIntrinsics']
