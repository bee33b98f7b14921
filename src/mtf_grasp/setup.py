"""ament_python package of MTF-Grasp: the library, the `mtf-grasp` command and the ROS 2 nodes."""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'mtf_grasp'

# One entry point per node, by subpackage of mtf_grasp/nodes; the fleet plan refers to them by name.
NODES = {
    'fleet': ['fl_server', 'tier_coordinator', 'fl_client', 'robot_group'],
    'perception': ['grasp_inference', 'bag_replayer', 'realsense_camera', 'sim_camera'],
    'pick': ['grasp_executor'],
}

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.launch.py')),
        (f'share/{PACKAGE}/config', glob('config/*.yaml')),
        (f'share/{PACKAGE}/config/experiments', glob('config/experiments/*.yaml')),
        (f'share/{PACKAGE}/config/studies', glob('config/studies/*.yaml')),
    ],
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='MTF-Grasp maintainers',
    maintainer_email='maintainers@mtf-grasp.dev',
    description='Multi-tier federated grasp learning for ROS 2 robot fleets',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [f'mtf-grasp = {PACKAGE}.cli:main']
        + [f'{node} = {PACKAGE}.nodes.{group}.{node}:main' for group, nodes in NODES.items() for node in nodes],
    },
)
