import pytest

from mtf_grasp.federated.report import markdown_table, seeds_table, summarise_seeds


def run(final_avg, final_mtf):
    def entry(acc):
        return {'accuracy_per_round': [acc / 2, acc], 'final_accuracy': acc, 'per_robot_accuracy': {},
                'bytes_per_round': [{'payload_bytes': 2_000_000}], 'params': 1234}
    return {'methods': {'fedavg': entry(final_avg), 'mtf_avg': entry(final_mtf)}}


def test_mean_over_seeds_and_table():
    summary = summarise_seeds({0: run(0.5, 0.6), 1: run(0.7, 0.7), 2: run(0.6, 0.8)})
    assert summary['seeds'] == [0, 1, 2]
    assert summary['methods']['fedavg']['final_accuracy'] == pytest.approx(0.6)
    assert summary['methods']['mtf_avg']['final_accuracy'] == pytest.approx(0.7)
    assert summary['methods']['mtf_avg']['accuracy_per_round'] == pytest.approx([0.35, 0.7])
    assert summary['methods']['fedavg']['std'] == pytest.approx((0.02 / 3) ** 0.5)
    table = seeds_table(summary, dataset='SimGrasp')
    assert '| MTF-Grasp-Avg | 70.0 ± 8.2 | +10.0 | 60.0, 70.0, 80.0 |' in table


def test_single_run_table():
    table = markdown_table(run(0.5, 0.62)['methods'], dataset='SimGrasp')
    assert table.splitlines()[2] == '| FedAvg | 50.0 | — | 2.00 | 1,234 |'
    assert table.splitlines()[3] == '| MTF-Grasp-Avg | 62.0 | +12.0 | 2.00 | 1,234 |'
