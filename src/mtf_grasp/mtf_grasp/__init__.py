"""MTF-Grasp: multi-tier federated grasp learning for ROS 2 robot fleets.

Packages: `grasping` (rectangles, data, models, training), `federated` (scores, partitions,
aggregation, rounds), `sim` (MuJoCo scenes and trials) are plain Python and never import rclpy;
`nodes` holds the thin ROS 2 shells; `fleet` is the fleet plan; `cli` is the `mtf-grasp` command.
"""

__version__ = '0.1.0'
