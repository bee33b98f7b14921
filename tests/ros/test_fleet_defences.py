"""The real fleet applies the experiment's defences at both tiers, as the in-process experiment does."""
import pytest

from fleet_testdata import fleet_matches_experiment

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_a_defended_fleet_ends_with_the_defended_experiments_model(ros_processes, tmp_path):
    defences = {'aggregator': 'median', 'norm_bound': {'max_norm': 1e-3, 'action': 'clip'}}
    summary = fleet_matches_experiment(ros_processes, tmp_path, defences=defences)
    for record in summary['rounds']:
        reasons = {(e['tier'], e['reason']) for e in record['defences']['events']}
        # Both tiers take the median, and a bound this tight clips the clusters at the server.
        assert {('cluster', 'median'), ('server', 'median'), ('server', 'clipped')} <= reasons
        assert record['defences']['clipped'] >= 2
