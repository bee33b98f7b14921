"""Typed configs from YAML, with errors that name the file and field."""
from dataclasses import dataclass, field
from typing import Literal, Optional

import pytest

from mtf_grasp.configfile import from_mapping, load_yaml
from mtf_grasp.errors import InputError


@dataclass
class Model:
    arch: Literal['grconvnet', 'ggcnn2'] = 'grconvnet'
    width: int = 16


@dataclass
class Experiment:
    rounds: int = 3
    lr: float = 1e-3
    model: Model = field(default_factory=Model)
    robots: list[str] = field(default_factory=list)
    note: Optional[str] = None


def test_nested_mapping_builds_typed_dataclasses():
    cfg = from_mapping(Experiment, {'rounds': 5, 'lr': 1, 'model': {'arch': 'ggcnn2'},
                                    'robots': ['a', 'b']}, 'exp.yaml')
    assert cfg == Experiment(5, 1.0, Model('ggcnn2', 16), ['a', 'b'])
    assert isinstance(cfg.lr, float)


@pytest.mark.parametrize('data, message', [
    ({'round': 3}, "exp.yaml: unknown field 'round'"),
    ({'rounds': 'three'}, 'exp.yaml.rounds: expected an integer'),
    ({'rounds': True}, 'exp.yaml.rounds: expected an integer'),
    ({'model': {'arch': 'resnet'}}, "exp.yaml.model.arch: 'resnet' is not one of"),
    ({'robots': 'a'}, 'exp.yaml.robots: expected a list'),
])
def test_bad_values_name_the_field(data, message):
    with pytest.raises(InputError, match=message.replace('.', r'\.')):
        from_mapping(Experiment, data, 'exp.yaml')


def test_load_yaml_reports_file_and_line(tmp_path):
    bad = tmp_path / 'bad.yaml'
    bad.write_text('rounds: 3\nmodel: [unclosed\n')
    with pytest.raises(InputError, match=r'bad\.yaml:\d+: invalid YAML'):
        load_yaml(bad)
    with pytest.raises(InputError, match='no such config file'):
        load_yaml(tmp_path / 'missing.yaml')
    (tmp_path / 'list.yaml').write_text('- 1\n- 2\n')
    with pytest.raises(InputError, match='expected a mapping'):
        load_yaml(tmp_path / 'list.yaml')
