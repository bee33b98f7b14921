"""Fixtures for tests that run real ROS 2 nodes in separate processes over loopback DDS."""
from __future__ import annotations

import pytest

rclpy = pytest.importorskip('rclpy', reason='rclpy is not importable: run the tests via `make test`')
pytest.importorskip('mtf_grasp_interfaces',
                    reason='mtf_grasp_interfaces is not built/sourced: run the tests via `make test`')
# ros_processes and ros_node live in tests/conftest.py: the launch tests use them too.
