"""`mtf-grasp bench scale`: its arguments and its plot (the runs themselves need a real fleet)."""
import argparse

import pytest

from mtf_grasp.bench import scale


def parse(*argv):
    parser = argparse.ArgumentParser()
    scale.add_arguments(parser)
    return parser.parse_args(argv)


def test_fleet_sizes_are_a_comma_separated_list():
    assert parse('--robots', '7,25,50,100,200').robots == [7, 25, 50, 100, 200]
    assert parse().discovery == 'both'
    for bad in ('7,x', '', '1,7'):
        with pytest.raises(SystemExit):
            parse('--robots', bad)


def test_the_plot_has_a_line_per_discovery_mode(tmp_path):
    runs = [{'robots': n, 'discovery': mode, 'overhead_s': 0.1 * n, 'server_peak_rss_mb': 330.0,
             'registration_s': 0.5 + n / (10 if mode == 'server' else 5)}
            for n in (7, 25, 200) for mode in scale.MODES]
    scale.plot_scaling(runs, tmp_path / 'scaling.png')
    assert (tmp_path / 'scaling.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
