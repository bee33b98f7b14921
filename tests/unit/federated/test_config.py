from dataclasses import replace
from pathlib import Path

import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.federated.ablations import ablation_variants
from mtf_grasp.federated.config import experiment_from_mapping, load_experiment_config

CONFIGS = Path(__file__).resolve().parents[3] / 'config' / 'experiments'


@pytest.mark.parametrize('name', ['quantity_skew', 'class_noniid'])
def test_shipped_configs_keep_the_protocol_when_quick(name):
    full = load_experiment_config(CONFIGS / f'{name}.yaml')
    quick = load_experiment_config(CONFIGS / f'{name}.yaml', quick=True, seed=4)
    for config in (full, quick):
        fed = config.federation
        assert (config.partition.robots, fed.top_level, fed.seed_epochs, fed.local_epochs) == (7, 2, 5, 15)
        assert (fed.lambda_dds, fed.lambda_dqs) == (0.5, 0.5)
        assert config.methods == ['fedavg', 'fednova', 'mtf_avg', 'mtf_nova', 'centralized', 'local_only']
    assert quick.seed == 4 and full.seed == 0
    assert quick.model.input_size < full.model.input_size
    if name == 'quantity_skew':
        assert full.partition.beta == 0.7 and full.partition.method == 'quantity_skew'
    else:
        assert full.partition.method == 'class_noniid' and full.partition.classes_per_robot == 2


def test_method_epochs_and_fedprox_settings():
    config = experiment_from_mapping({'federation': {'baseline_epochs': 9, 'fedprox_mu': 0.1}}, 'cfg')
    assert config.epochs('mtf_avg', coordinator=True) == 5
    assert config.epochs('mtf_nova') == 15
    assert config.epochs('fedavg') == config.epochs('centralized') == 9
    assert config.training_for('fedprox').prox_mu == 0.1
    assert config.training_for('fedavg').prox_mu == 0.0


def test_config_errors_name_the_field():
    with pytest.raises(InputError, match=r'cfg.federation.ranking'):
        experiment_from_mapping({'federation': {'ranking': 'age'}}, 'cfg')
    with pytest.raises(InputError, match=r"cfg.partition: unknown field 'betta'"):
        experiment_from_mapping({'partition': {'betta': 0.7}}, 'cfg')
    with pytest.raises(InputError, match=r'cfg.quick'):
        experiment_from_mapping({'quick': 3}, 'cfg')


def test_ablation_variants_cover_the_open_questions():
    variants = ablation_variants(experiment_from_mapping({}, 'cfg'))
    assert [n for n in variants if n.startswith('ranking=')] == [
        'ranking=is', 'ranking=dds', 'ranking=dqs', 'ranking=random']
    assert [variants[f'j={j}'].federation.top_level for j in range(1, 7)] == [1, 2, 3, 4, 5, 6]
    assert {variants[f'assignment={s}'].federation.assignment
            for s in ('balanced', 'round_robin', 'class_complement')} == {'balanced', 'round_robin', 'class_complement'}
    assert variants['ranking=dqs'].federation.top_level == 2


def test_variant_extends_its_base(tmp_path):
    variant = load_experiment_config(CONFIGS / 'quantity_skew_groupnorm.yaml', quick=True)
    base = load_experiment_config(CONFIGS / 'quantity_skew.yaml', quick=True)
    assert variant.model.norm == 'group' and base.model.norm == 'batch'
    assert variant.model.arch == base.model.arch and variant.federation == base.federation
    (tmp_path / 'a.yaml').write_text('extends: b.yaml\n')
    (tmp_path / 'b.yaml').write_text('extends: a.yaml\n')
    with pytest.raises(InputError, match='cycle'):
        load_experiment_config(tmp_path / 'a.yaml')


@pytest.mark.parametrize('path', sorted(CONFIGS.glob('*.yaml')), ids=lambda p: p.stem)
def test_every_shipped_experiment_config_loads_under_its_own_name(path):
    for quick in (False, True):
        assert load_experiment_config(path, quick=quick).name == path.stem


def test_the_crash_control_differs_from_the_crash_runs_only_in_the_wire_encoding():
    crash = load_experiment_config(CONFIGS / 'quantity_skew_crash.yaml', quick=True)
    control = load_experiment_config(CONFIGS / 'quantity_skew_crash_fp16.yaml', quick=True)
    assert (crash.federation.encoding, control.federation.encoding) == ('fp32', 'fp16')
    as_fp32 = replace(control, name=crash.name, federation=replace(control.federation, encoding='fp32'))
    assert as_fp32 == crash


def test_top_level_is_a_number_or_a_rule():
    from mtf_grasp.federated.planning import TopLevelFraction

    assert experiment_from_mapping({'federation': {'top_level': 'sqrt'}}, 'cfg').federation.top_level == 'sqrt'
    assert experiment_from_mapping({'federation': {'top_level': {'fraction': 0.2}}},
                                   'cfg').federation.top_level == TopLevelFraction(0.2)
    for bad in ('cube', {'fraction': 1.5}, 0.3):
        with pytest.raises(InputError, match='cfg.federation.top_level'):
            experiment_from_mapping({'federation': {'top_level': bad}}, 'cfg')
