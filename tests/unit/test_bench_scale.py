"""`mtf-grasp bench scale`: its arguments and its plot (the runs themselves need a real fleet)."""
import argparse
from pathlib import Path

import pytest

from mtf_grasp.bench import scale


def parse(*argv):
    parser = argparse.ArgumentParser()
    scale.add_arguments(parser)
    return parser.parse_args(argv)


def test_fleet_sizes_are_a_comma_separated_list():
    assert parse('--robots', '7,25,50,100,200').robots == [7, 25, 50, 100, 200]
    assert parse().discovery == 'both'
    assert parse('--top-level', '2').top_level == 2 and parse('--top-level', 'sqrt').top_level == 'sqrt'
    assert parse().top_level is None
    assert parse('--method', 'fedavg').method == 'fedavg' and parse().method is None
    for bad in ('7,x', '', '1,7'):
        with pytest.raises(SystemExit):
            parse('--robots', bad)
    for bad in ('0', 'half', '-2'):
        with pytest.raises(SystemExit):
            parse('--top-level', bad)
    with pytest.raises(SystemExit):
        parse('--method', 'fedprox')


def test_a_top_level_rule_gives_the_fleet_an_experiment_with_that_j(tmp_path):
    from mtf_grasp.federated.config import load_experiment_config
    from mtf_grasp.federated.planning import resolve_top_level

    derived = scale.with_top_level(Path('config/experiments/scale_tiny.yaml'), 2, tmp_path)
    config = load_experiment_config(derived)
    assert config.federation.top_level == 2 and resolve_top_level(config.federation.top_level, 100) == 2
    base = load_experiment_config('config/experiments/scale_tiny.yaml')
    assert resolve_top_level(base.federation.top_level, 100) == 10
    assert config.data == base.data and config.model == base.model


def test_the_plot_has_a_line_per_discovery_mode(tmp_path):
    runs = [{'robots': n, 'discovery': mode, 'overhead_s': 0.1 * n, 'server_peak_rss_mb': 330.0,
             'registration_s': 0.5 + n / (10 if mode == 'server' else 5)}
            for n in (7, 25, 200) for mode in scale.MODES]
    scale.plot_scaling(runs, tmp_path / 'scaling.png')
    assert (tmp_path / 'scaling.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_mean_timeline_counts_a_missing_segment_as_zero_and_still_adds_up():
    rounds = [{'seed_cpu': 1.0, 'fine_tuning_cpu': 2.0, 'server_closing': 1.0},
              {'seed_cpu': 2.0, 'server_closing': 1.0}]   # a cluster without members
    mean = scale.mean_timeline(rounds)
    assert mean == {'seed_cpu': 1.5, 'fine_tuning_cpu': 1.0, 'server_closing': 1.0}
    assert sum(mean.values()) == 3.5
    assert scale.mean_timeline([rounds[0], None]) is None and scale.mean_timeline([]) is None
