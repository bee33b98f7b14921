"""Node parameters from config dataclasses: one declaration per field, with a descriptor.

A node calls `declare_config(self, MyConfig)`; each dataclass field becomes a ROS parameter
(default from the dataclass, description from `field(metadata={'help': ...})`), and the values
the node was started with are validated by the same code that reads YAML configs, so a bad
value stops the node with a message naming the parameter.
"""
from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from mtf_grasp.configfile import from_mapping

T = TypeVar('T')


def declare_config(node: Node, cls: type[T]) -> T:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            raise TypeError(f'{cls.__name__}.{f.name} needs a default to be a ROS parameter')
        if isinstance(default, tuple):
            default = list(default)
        # Typing is checked by from_mapping below, which accepts `lr: 1` for a float and names
        # the parameter in its error; rclpy's static typing would reject the former.
        descriptor = ParameterDescriptor(description=f.metadata.get('help', ''), read_only=True,
                                         dynamic_typing=True)
        value = node.declare_parameter(f.name, default, descriptor).value
        if value is not None:
            values[f.name] = list(value) if isinstance(value, (list, tuple)) else value
    return from_mapping(cls, values, f'{node.get_fully_qualified_name()} parameter')
