"""The study runner's statistics, plateau rule, seeds, resume and config guard."""
import json
import math

import pytest

from mtf_grasp.cli import main as cli_main
from mtf_grasp.errors import InputError
from mtf_grasp.federated.statistics import describe, paired_difference
from mtf_grasp.federated.stopping import Plateau
from mtf_grasp.federated.study import load_study, parse_seeds, plan_jobs, run_jobs, stored_run
from mtf_grasp.federated.study_report import markdown, summarise


def test_paired_difference_on_known_numbers():
    # differences 1..5 pp: mean 3, sd sqrt(2.5) (ddof=1), se sqrt(0.5), t(0.975, 4) = 2.7764451
    d = paired_difference([0.51, 0.52, 0.53, 0.54, 0.55], [0.50] * 5)
    assert d['seeds'] == 5
    assert d['mean_pp'] == pytest.approx(3.0)
    assert d['sd_pp'] == pytest.approx(math.sqrt(2.5))
    assert d['se_pp'] == pytest.approx(math.sqrt(0.5))
    half = 2.7764451 * math.sqrt(0.5)
    assert d['ci95_pp'] == pytest.approx([3.0 - half, 3.0 + half], abs=1e-6)


def test_paired_difference_of_one_seed_has_no_interval_and_mismatches_fail():
    assert paired_difference([0.6], [0.5])['ci95_pp'] is None
    with pytest.raises(ValueError):
        paired_difference([0.6, 0.7], [0.5])


def test_describe_uses_the_sample_standard_deviation():
    assert describe([0.2, 0.4])['sd'] == pytest.approx(math.sqrt(0.02))


def test_plateau_stops_when_the_last_window_gains_less_than_min_delta():
    rule = Plateau(min_rounds=4, max_rounds=10, window=2, min_delta=0.01)
    assert not rule.done([0.1, 0.2, 0.3])                      # fewer than min_rounds
    assert not rule.done([0.1, 0.2, 0.3, 0.4])                 # +0.2 over the window before
    assert rule.done([0.1, 0.2, 0.5, 0.5, 0.505, 0.5])         # +0.0025
    assert rule.done([0.1] * 10)                               # max_rounds
    assert rule.score([0.1, 0.3, 0.5]) == pytest.approx(0.4)
    with pytest.raises(ValueError):
        Plateau(min_rounds=3, max_rounds=10, window=2)


@pytest.mark.parametrize('text, seeds', [('0-4', [0, 1, 2, 3, 4]), ('0,3,7', [0, 3, 7]), ('2', [2]), ('0-1,5', [0, 1, 5])])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize('text', ['a-b', '', '1,1'])
def test_parse_seeds_refuses_bad_text(text):
    with pytest.raises(InputError, match='--seeds'):
        parse_seeds(text)


@pytest.fixture
def tiny_study(tmp_path, tiny_simgrasp):
    base = tmp_path / 'experiment.yaml'
    base.write_text(json.dumps({
        'name': 'tiny', 'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32},
        'data': {'root': str(tiny_simgrasp), 'test_samples': 20},
        'partition': {'robots': 4, 'min_samples': 3},
        'federation': {'top_level': 1, 'seed_epochs': 1, 'local_epochs': 1}}))
    study = tmp_path / 'study.yaml'
    study.write_text(json.dumps({
        'name': 'tiny', 'experiment': 'experiment.yaml',
        'variants': {'baselines': {'methods': ['fedavg']},
                     'members_only': {'methods': ['mtf_avg'], 'overrides': {'federation': {'tier_aggregate': 'members_only'}}}},
        'presets': {'cpu': {'plateau': {'min_rounds': 2, 'max_rounds': 2, 'window': 1}}}}))
    return study


def test_a_rerun_skips_stored_runs_and_a_changed_config_is_refused(tiny_study, tmp_path):
    study, base = load_study(tiny_study)
    jobs = plan_jobs(study, base, preset='cpu', seeds=[0, 1], source=str(tiny_study))
    assert [j.key for j in jobs] == ['baselines/fedavg/seed_0', 'members_only/mtf_avg/seed_0',
                                     'baselines/fedavg/seed_1', 'members_only/mtf_avg/seed_1']
    out = tmp_path / 'out'
    ran = []
    run_jobs(jobs[:1], out, workers=1, on_done=lambda job, run: ran.append(job.key))
    run_jobs(jobs, out, workers=1, on_done=lambda job, run: ran.append(job.key))
    assert ran == [jobs[0].key, *[j.key for j in jobs[1:]]]      # the first run was not repeated
    run = stored_run(out, jobs[0])
    assert run['rounds'] == 2 and len(run['accuracy_per_round']) == 2 and run['test_samples'] == 20
    assert all(b == 2 * 4 * run['params'] * 4 for b in run['parameter_bytes_per_round'])
    changed = plan_jobs(study, base, preset='cpu', seeds=[0], source=str(tiny_study),
                        overrides={'training': {'lr': 0.01}})
    with pytest.raises(InputError, match='another config'):
        stored_run(out, changed[0])
    summary, differences = summarise([stored_run(out, j) for j in jobs], baseline_variant='baselines')
    assert {(d['method'], d['variant'], d['baseline']) for d in differences} == {('mtf_avg', 'members_only', 'fedavg')}
    assert differences[0]['seeds'] == 2
    assert len(summary) == 2


def test_cli_runs_the_chosen_methods_and_reports_a_partial_study(tiny_study, tmp_path, capsys):
    out = tmp_path / 'out'
    args = ['study', '--config', str(tiny_study), '--seeds', '0-1', '--out', str(out), '--workers', '1']
    assert cli_main([*args, '--methods', 'fedavg']) == 0
    results = json.loads((out / 'results.json').read_text())
    assert not results['complete']
    assert results['missing'] == ['members_only/mtf_avg/seed_0', 'members_only/mtf_avg/seed_1']
    assert [(r['method'], r['seed']) for r in results['runs']] == [('fedavg', 0), ('fedavg', 1)]
    assert all(r['machine']['precision'] in ('fp32', 'bf16') for r in results['runs'])
    table = (out / 'table.md').read_text()
    assert 'Incomplete' in table and 'Machines (`machine` of each run): seed 0: ' in table
    assert cli_main([*args, '--report']) == 0          # runs nothing, same report
    assert json.loads((out / 'results.json').read_text())['missing'] == results['missing']
    assert cli_main([*args, '--variants', 'nope']) == 2
    assert "--variants nope: not in this study (baselines, members_only)" in capsys.readouterr().err
    assert cli_main(['study', '--config', str(tiny_study), '--seeds', '5', '--out', str(out), '--report']) == 1


def test_an_unknown_preset_and_a_baseline_without_fedavg_are_refused(tiny_study, tmp_path):
    study, base = load_study(tiny_study)
    with pytest.raises(InputError, match="no preset 'gpu'"):
        plan_jobs(study, base, preset='gpu', seeds=[0], source='s')
    bad = tmp_path / 'bad.yaml'
    bad.write_text(tiny_study.read_text().replace('"methods": ["fedavg"]', '"methods": ["fednova"]'))
    with pytest.raises(InputError, match='must run fedavg'):
        load_study(bad)


def test_the_shipped_studies_plan_every_reading():
    for name in ('quantity_skew', 'class_noniid'):
        study, base = load_study(f'config/studies/{name}.yaml')
        assert {'cpu', 'gpu'} <= set(study.presets)
        for preset in study.presets:
            jobs = plan_jobs(study, base, preset=preset, seeds=[0, 1, 2, 3, 4], source=name)
            assert {j.seed for j in jobs} == {0, 1, 2, 3, 4}
    study, base = load_study('config/studies/quantity_skew.yaml')
    keys = {j.key.rsplit('/', 1)[0] for j in plan_jobs(study, base, preset='cpu', seeds=[0], source='qs')}
    assert {'paper/mtf_avg', 'paper/mtf_nova', 'members_only/mtf_avg', 'seed_then_local/mtf_avg',
            'et15/mtf_avg', 'baselines/fedavg', 'baselines/fednova'} <= keys


def test_the_shipped_gpu_preset_trains_on_cpu_with_a_tiny_budget(tiny_simgrasp):
    """The gpu preset as shipped (GR-ConvNet lite, 224 px RGB-D) through the study runner, only
    data, epochs, rounds and device made tiny: what a lent GPU would run, minus the budget."""
    import dataclasses

    from mtf_grasp.federated.study import run_job

    study, base = load_study('config/studies/quantity_skew.yaml')
    tiny = {'data': {'root': str(tiny_simgrasp), 'test_samples': 6, 'max_train_samples': 21},
            'partition': {'min_samples': 2}, 'federation': {'seed_epochs': 1, 'local_epochs': 1},
            'training': {'device': 'cpu'}}
    shipped = {j.key: j for j in plan_jobs(study, base, preset='gpu', seeds=[0], source='qs')}
    assert shipped['paper/mtf_avg/seed_0'].mapping['training']['device'] == 'cuda'
    jobs = {j.key: j for j in plan_jobs(study, base, preset='gpu', seeds=[0], source='qs', overrides=tiny)}
    job = dataclasses.replace(jobs['paper/mtf_avg/seed_0'], plateau=Plateau(min_rounds=2, max_rounds=2, window=1))
    assert job.mapping['model'] == {'arch': 'grconvnet', 'channels': 'rgbd', 'width': 16, 'input_size': 224,
                                    'norm': 'batch'}
    run = run_job(job)
    assert run['rounds'] == 2 and run['test_samples'] == 6 and run['train_samples'] == 21
    assert all(0.0 <= a <= 1.0 for a in run['accuracy_per_round'])
    assert run['parameter_bytes_per_round'] == [2 * 7 * run['params'] * 4] * 2


def test_markdown_table_lists_differences_with_intervals():
    runs = [{'variant': v, 'method': m, 'seed': s, 'score': sc, 'final_accuracy': sc, 'rounds': 6}
            for v, m, scores in (('baselines', 'fedavg', [0.5, 0.6, 0.55]), ('paper', 'mtf_avg', [0.55, 0.62, 0.6]))
            for s, sc in enumerate(scores)]
    summary, differences = summarise(runs, baseline_variant='baselines')
    text = markdown({'study': 'x', 'preset': 'cpu', 'seeds_text': '0-2', 'metric': 'm', 'test_samples': 900,
                     'baseline_variant': 'baselines', 'summary': summary, 'differences': differences})
    assert 'MTF-Grasp-Avg [paper] | FedAvg | +4.0 |' in text
    assert 'one scene = 0.11 points' in text


def test_a_variant_is_also_paired_with_the_baseline_variants_run_of_its_method():
    runs = [{'variant': v, 'method': m, 'seed': s, 'score': sc, 'final_accuracy': sc, 'rounds': 5}
            for v, m, scores in (('sqrt', 'fedavg', [0.1, 0.2]), ('sqrt', 'mtf_avg', [0.3, 0.4]),
                                 ('j2', 'mtf_avg', [0.2, 0.2]))
            for s, sc in enumerate(scores)]
    _, differences = summarise(runs, baseline_variant='sqrt')
    pairs = {(d['variant'], d['method'], d['baseline']): d['mean_pp'] for d in differences}
    assert pairs == pytest.approx({('sqrt', 'mtf_avg', 'fedavg'): 20.0, ('j2', 'mtf_avg', 'fedavg'): 5.0,
                                   ('j2', 'mtf_avg', 'mtf_avg'): -15.0})


def test_bench_train_reports_throughput_per_precision_in_fresh_processes(tmp_path, tiny_simgrasp):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, '-m', 'mtf_grasp.cli', 'bench', 'train', '--data', str(tiny_simgrasp),
                           '--arch', 'ggcnn2', '--channels', 'depth', '--input-size', '32', '--samples', '8',
                           '--epochs', '1', '--threads', '1', '--precision', 'fp32,bf16', '--json'],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert [r['precision'] for r in figures['runs']] == ['fp32', 'bf16']
    for r in figures['runs']:
        assert r['samples_per_s'] > 0 and r['arch'] == 'ggcnn2' and r['input_size'] == 32 and r['threads'] == 1
    assert figures['speedup_vs_first'][0] == 1.0
