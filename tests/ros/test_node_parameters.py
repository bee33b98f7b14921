"""Config dataclasses become declared ROS parameters, validated like YAML configs."""
from dataclasses import dataclass, field

import pytest
import rclpy
from rclpy.parameter import Parameter

from mtf_grasp.errors import InputError
from mtf_grasp.nodes.parameters import declare_config

pytestmark = pytest.mark.ros


@dataclass
class ExampleConfig:
    robot_id: str = field(default='robot_0', metadata={'help': 'fleet id of this robot'})
    epochs: int = 3
    lr: float = 1e-3
    peers: list[str] = field(default_factory=list)


@pytest.fixture
def context():
    from rclpy.context import Context
    ctx = Context()
    rclpy.init(context=ctx)
    yield ctx
    rclpy.shutdown(context=ctx)


def make_node(context, **overrides):
    params = [Parameter(k, value=v) for k, v in overrides.items()]
    return rclpy.create_node('cfg_node', context=context, parameter_overrides=params)


def test_defaults_and_descriptors(context):
    node = make_node(context)
    cfg = declare_config(node, ExampleConfig)
    assert cfg == ExampleConfig()
    assert node.describe_parameter('robot_id').description == 'fleet id of this robot'
    assert node.describe_parameter('epochs').read_only
    node.destroy_node()


def test_overrides_are_read_back(context):
    node = make_node(context, robot_id='robot_4', epochs=7, lr=1, peers=['robot_5', 'robot_6'])
    cfg = declare_config(node, ExampleConfig)
    assert cfg == ExampleConfig('robot_4', 7, 1.0, ['robot_5', 'robot_6'])
    node.destroy_node()


def test_wrong_type_names_the_parameter(context):
    node = make_node(context, epochs='many')
    with pytest.raises(InputError, match='epochs'):
        declare_config(node, ExampleConfig)
    node.destroy_node()
