"""Defences inside eq. 8 (reference: the seed) and eq. 9 (reference: the global model) on hand-computed
numbers, their recorded decisions, and a real round with a scale100 low-level robot."""
import itertools
import json
import math
import runpy
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml

from mtf_grasp.cli import main
from mtf_grasp.errors import InputError
from mtf_grasp.federated import RobotProfile, TrafficLedger, plan_round
from mtf_grasp.federated.attacks import Adversary, Attack, resolve
from mtf_grasp.federated.config import DefenceConfig, NormBoundConfig, experiment_from_mapping, load_experiment_config
from mtf_grasp.federated.experiment import initial_state, plan_for
from mtf_grasp.federated.defences import weight_ceilings
from mtf_grasp.federated.rounds import ModelUpdate, cluster_aggregate, server_aggregate
from mtf_grasp.federated.simulation import Wire, run_round
from mtf_grasp.grasping import open_dataset

from federated_data import QUICK_SPEC


def _update(robot, w, samples, steps=1.0):
    return ModelUpdate(robot, {'w': torch.tensor(w, dtype=torch.float32)}, samples, steps, 0)


def defences(aggregator='mean', trim_fraction=0.25, **bound):
    return DefenceConfig(norm_bound=NormBoundConfig(**bound), aggregator=aggregator, trim_fraction=trim_fraction)


SEED = {'w': torch.tensor([0.0])}
OWN = _update('robot_0', [0.0], 60)                       # seed_only: the coordinator's model is the seed
MEMBERS = [_update('robot_1', [2.0], 30), _update('robot_2', [100.0], 10)]


def cluster(reading='with_coordinator', members=MEMBERS, **kwargs):
    events = []
    result = cluster_aggregate(OWN, members, base='avg', reading=reading, seed_state=SEED, events=events, **kwargs)
    return result, [(e.tier, e.by, e.reason, e.robot_id) for e in events]


def test_the_tier_clips_a_member_against_the_seed():
    result, events = cluster(defences=defences(max_norm=4.0))
    # robot_2: Δ = 100 -> 4; (60·0 + 30·2 + 10·4) / 100 = 1.
    assert result.state['w'].item() == pytest.approx(1.0) and result.sample_count == 100
    assert events == [('cluster', 'robot_0', 'clipped', 'robot_2')]


def test_the_tier_rejects_a_member_over_the_bound():
    result, events = cluster(defences=defences(max_norm=4.0, action='reject'))
    assert result.state['w'].item() == pytest.approx(60 / 90) and result.sample_count == 90
    assert events == [('cluster', 'robot_0', 'norm_exceeded', 'robot_2')]


def test_members_only_falls_back_to_the_coordinator_when_every_member_is_refused():
    result, events = cluster('members_only', defences=defences(max_norm=1.0, action='reject'))
    assert (result.robot_id, result.state['w'].item(), result.sample_count) == ('robot_0', 0.0, 60)
    assert [e[3] for e in events] == ['robot_1', 'robot_2']


def test_the_tier_trimmed_mean_and_median():
    members = [*MEMBERS, _update('robot_3', [5.0], 10)]
    result, events = cluster(members=members, defences=defences('trimmed_mean'))
    assert result.state['w'].item() == pytest.approx(3.5)     # 0 2 5 100: trim 1 of 4 -> (2 + 5) / 2
    assert result.sample_count == 110 and events == [('cluster', 'robot_0', 'trimmed_mean', '')]
    result, _ = cluster('members_only', members=members, defences=defences('median'))
    assert result.state['w'].item() == 5.0 and result.sample_count == 110   # 2 5 100


def test_the_tier_refuses_a_member_pointing_against_the_others():
    # Δ against the seed: (1,0), (0,1), (1,1), (−1,−1); the coordinator's own Δ = 0 (its seed) is not
    # judged. The last member's cosine with the others' sum is −1 and it goes; eq. 8 weighs the rest.
    seed = {'w': torch.tensor([0.0, 0.0])}
    members = [_update(f'robot_{i + 1}', w, n) for i, (w, n) in
               enumerate([([1.0, 0.0], 30), ([0.0, 1.0], 10), ([1.0, 1.0], 10), ([-1.0, -1.0], 20)])]
    events = []
    result = cluster_aggregate(_update('robot_0', [0.0, 0.0], 60), members, base='avg', reading='with_coordinator',
                               seed_state=seed, defences=DefenceConfig(direction_z=0.0), events=events)
    assert result.state['w'].tolist() == pytest.approx([40 / 110, 20 / 110]) and result.sample_count == 110
    checked, refused = events
    assert (checked.reason, checked.bound) == ('direction_checked', 0.0)
    assert checked.unit == pytest.approx(1 / math.sqrt(2))
    # Leave-one-out: (1,0) against (0,1): 0; (0,1) against (1,0): 0; (1,1) against (0,0): 0 (nothing
    # to point along); (−1,−1) against (2,2): −1.
    assert checked.cosines == pytest.approx({'robot_1': 0.0, 'robot_2': 0.0, 'robot_3': 0.0, 'robot_4': -1.0})
    assert (refused.tier, refused.by, refused.reason, refused.robot_id, refused.cosine) == (
        'cluster', 'robot_0', 'misdirected', 'robot_4', pytest.approx(-1.0))


def test_a_cluster_of_two_members_that_disagree_falls_back_to_its_seed():
    # Δ against the seed: (1,0) and (−1,0) (one of them sign-flipped), cosine −1 < −z/√2 for z = 1;
    # two cannot say which, so both go and the cluster model is the coordinator's seed with its own weight.
    seed = {'w': torch.tensor([0.0, 0.0])}
    members = [_update('robot_1', [1.0, 0.0], 30), _update('robot_2', [-1.0, 0.0], 30)]
    events = []
    result = cluster_aggregate(_update('robot_0', [0.0, 0.0], 60), members, base='avg', reading='with_coordinator',
                               seed_state=seed, defences=DefenceConfig(direction_z=1.0), events=events)
    assert result.state['w'].tolist() == [0.0, 0.0] and result.sample_count == 60
    assert [(e.reason, e.robot_id) for e in events] == [
        ('direction_checked', ''), ('misdirected', 'robot_1'), ('misdirected', 'robot_2')]
    assert events[0].bound == pytest.approx(-1 / math.sqrt(2)) and events[0].cosines == pytest.approx(
        {'robot_1': -1.0, 'robot_2': -1.0})


def test_the_fleets_last_step_keeps_the_member_of_a_disagreeing_pair_that_goes_its_way():
    # As above, with the global model's last move (1, 0.5) known: robot_1 agrees with it by +0.89,
    # robot_2 by −0.89, against it beyond chance (below −z/√2 = −0.71) and by more than z·√2/√2 = 1
    # below robot_1, so robot_2 goes alone: (60·0 + 30·(1,0)) / 90.
    seed = {'w': torch.tensor([0.0, 0.0])}
    members = [_update('robot_1', [1.0, 0.0], 30), _update('robot_2', [-1.0, 0.0], 30)]
    events = []
    result = cluster_aggregate(_update('robot_0', [0.0, 0.0], 60), members, base='avg', reading='with_coordinator',
                               seed_state=seed, defences=DefenceConfig(direction_z=1.0), events=events,
                               last_step={'w': torch.tensor([1.0, 0.5], dtype=torch.float64)})
    assert result.state['w'].tolist() == pytest.approx([1 / 3, 0.0]) and result.sample_count == 90
    assert [(e.reason, e.robot_id) for e in events] == [('direction_checked', ''), ('misdirected', 'robot_2')]
    assert events[0].step_cosines == pytest.approx({'robot_1': 2 / math.sqrt(5), 'robot_2': -2 / math.sqrt(5)})


def test_the_tier_trims_fednova_directions_and_steps():
    members = [_update('robot_1', [2.0], 30, steps=20.0), _update('robot_2', [5.0], 10, steps=25.0),
               _update('robot_3', [100.0], 10, steps=10.0)]
    result = cluster_aggregate(OWN, members, base='nova', reading='members_only', global_state=SEED,
                               defences=defences('median'))
    # d = (0 − w)/a: −0.1, −0.2, −10 -> median −0.2; a: 10 20 25 -> median 20; θ = 0 − 20·(−0.2) = 4.
    assert result.state['w'].item() == pytest.approx(4.0) and result.local_steps == 20.0


GLOBAL = {'w': torch.tensor([0.0, 0.0])}
CLUSTERS = [_update('robot_0', [3.0, 4.0], 1), _update('robot_1', [6.0, 8.0], 1), _update('robot_2', [0.0, 1.0], 2)]


def server(**kwargs):
    events = []
    return server_aggregate(CLUSTERS, base='avg', global_state=GLOBAL, events=events, **kwargs), events


def test_the_server_bounds_each_cluster_against_the_global_model():
    clipped, events = server(defences=defences(max_norm=5.0))
    assert clipped['w'].tolist() == pytest.approx([1.5, 2.5])   # ((3,4) + (3,4) + 2·(0,1)) / 4
    assert [(e.tier, e.by, e.reason, e.robot_id, e.norm, e.bound) for e in events] == [
        ('server', 'server', 'clipped', 'robot_1', 10.0, 5.0)]
    rejected, events = server(defences=defences(max_norm=5.0, action='reject'))
    assert rejected['w'].tolist() == pytest.approx([1.0, 2.0])  # ((3,4) + 2·(0,1)) / 3
    assert [e.reason for e in events] == ['norm_exceeded']


def test_server_action_rejects_at_the_server_while_the_tier_clips():
    tiered = defences(max_norm=4.0, server_action='reject')
    result, events = cluster(defences=tiered)
    assert result.state['w'].item() == pytest.approx(1.0) and events[0][2] == 'clipped'
    rejected, events = server(defences=replace(tiered, norm_bound=replace(tiered.norm_bound, max_norm=5.0)))
    assert rejected['w'].tolist() == pytest.approx([1.0, 2.0]) and [e.reason for e in events] == ['norm_exceeded']


def test_the_server_keeps_the_global_model_when_every_cluster_is_refused():
    kept, events = server(defences=defences(max_norm=0.5, action='reject'))
    assert kept['w'].tolist() == [0.0, 0.0] and len(events) == 3


def test_the_server_median_is_unweighted():
    median, events = server(defences=defences('median'))
    assert median['w'].tolist() == [3.0, 4.0]
    assert [(e.reason, e.trimmed, e.models) for e in events] == [('median', 1, 3)]


def test_the_server_holds_each_model_to_the_samples_its_senders_registered():
    # CLUSTERS claim 1, 1 and 2 samples; their senders registered 1 each: robot_2 weighs 1.
    capped, events = server(ceilings={'robot_0': 1, 'robot_1': 1, 'robot_2': 1})
    assert capped['w'].tolist() == pytest.approx([3.0, 13 / 3])   # ((3,4) + (6,8) + (0,1)) / 3
    assert [(e.tier, e.reason, e.robot_id, e.claimed, e.bound) for e in events] == [
        ('server', 'weight_capped', 'robot_2', 2, 1)]


def test_weight_ceilings_sum_a_cluster_and_take_a_robot_s_own_in_flat_rounds():
    profiles = [RobotProfile(f'robot_{i}', n, (n,)) for i, n in enumerate([50, 30, 20, 10, 5])]
    registered = {p.robot_id: p.sample_count for p in profiles}
    tiered = plan_round(profiles, round_index=0, method='mtf_avg', top_level_count=2)
    assert tiered.registered == registered
    ceilings = weight_ceilings(tiered)
    assert ceilings == {c: registered[c] + sum(registered[m] for m in tiered.clusters[c]) for c in tiered.top_level}
    assert sum(ceilings.values()) == 115
    flat = plan_round(profiles, round_index=0, method='fedavg', top_level_count=2)
    assert weight_ceilings(flat) == registered
    # A plan without counts (made by hand) caps nothing.
    assert weight_ceilings(replace(flat, registered={})) == {}


def test_the_plan_keeps_the_counts_robots_claimed_though_the_count_cap_ranks_them():
    config = experiment_from_mapping({'partition': {'robots': 3}, 'federation': {'top_level': 1},
                                      'defences': {'count_cap': 1.0}}, 'test')
    profiles = [RobotProfile(f'robot_{i}', n, (n,)) for i, n in enumerate([50, 30, 20])]
    plan = plan_for('mtf_avg', 0, config, SimpleNamespace(profiles=profiles))
    # robot_0 ranks as 30 (1 × the median claim), but its model may weigh the 50 it registered.
    quantity = {robot: dqs for robot, _, _, dqs in plan.ranking}
    assert quantity['robot_0'] == quantity['robot_1'] == 1.0
    assert plan.registered == {'robot_0': 50, 'robot_1': 30, 'robot_2': 20}


def test_no_defences_is_the_plain_weighted_mean():
    plain, events = server(defences=DefenceConfig())
    assert plain['w'].tolist() == pytest.approx([2.25, 3.5]) and events == []


@pytest.mark.parametrize('section, message', [
    ({'aggregator': 'krum'}, "defences.aggregator: 'krum' is not one of"),
    ({'trim_fraction': 0.5}, r'defences: trim fraction must be in \[0, 0.5\), got 0.5'),
    ({'norm_bound': {'max_relative': 0}}, 'defences.norm_bound: max_relative must be positive'),
    ({'norm_bound': {'max_norm': 1, 'action': 'drop'}}, "defences.norm_bound.action: 'drop' is not one of"),
    ({'norm_bound': {'max_norm': 1, 'server_action': 'drop'}}, "defences.norm_bound.server_action: 'drop'"),
    ({'direction_z': -1}, 'defences: direction_z must be non-negative, got -1'),
])
def test_bad_defences_name_the_field(section, message):
    with pytest.raises(InputError, match=message):
        experiment_from_mapping({'defences': section}, 'cfg')


def test_defences_are_off_by_default():
    config = experiment_from_mapping({}, 'cfg')
    assert config.defences == DefenceConfig() and not config.defences.active
    assert config.defences.norm_bound.bound() is None


# -- a real round on the tiny SimGrasp set -------------------------------------------------------

N = 5


@pytest.fixture(scope='module')
def setting(tiny_simgrasp):
    torch.set_num_threads(1)
    dataset = open_dataset(tiny_simgrasp, spec=QUICK_SPEC)
    sizes = [20, 4, 9, 3, 6]
    starts = [0, *itertools.accumulate(sizes)]
    indices = {f'robot_{r}': list(range(starts[r], starts[r + 1])) for r in range(N)}
    profiles = [RobotProfile(rid, len(ix), (len(ix),)) for rid, ix in indices.items()]
    return dataset, indices, profiles


def _config(root, **section):
    return experiment_from_mapping({
        'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32}, 'data': {'root': str(root)},
        'partition': {'robots': N}, 'federation': {'top_level': 2, 'seed_epochs': 1, 'local_epochs': 1},
        'defences': section}, 'test')


def _round(config, setting, *, method='mtf_avg', attacks=()):
    dataset, indices, profiles = setting
    plan = plan_round(profiles, round_index=0, method=method, top_level_count=2)
    adversary = Adversary(resolve(attacks, plan=plan, robots=list(indices)))
    ledger, events, sent = TrafficLedger(), [], {}
    state = initial_state(config)
    result = run_round(state, plan=plan, config=config, dataset=dataset, indices=indices,
                       wire=Wire(spec=config.model, dtype='fp32', ledger=ledger), adversary=adversary,
                       events=events, on_update=lambda u: sent.__setitem__(u.robot_id, u.state))
    return state, result, ledger.round_summary(0), events, sent, adversary


DEFENDED = [{'aggregator': 'trimmed_mean'}, {'norm_bound': {'max_relative': 0.2, 'action': 'reject'}}]


@pytest.mark.parametrize('section', DEFENDED, ids=['trimmed_mean', 'norm_bound_reject'])
def test_one_scale100_low_level_robot_cannot_move_the_global_model_outside_the_honest_range(
        tiny_simgrasp, setting, section):
    state, result, _, events, sent, adversary = _round(_config(tiny_simgrasp, **section), setting,
                                                       attacks=[Attack('low:1', 'scale100')])
    attacker = adversary.attacks[0].robot
    honest = [s for robot, s in sent.items() if robot != attacker]
    for name, value in result.items():
        if not value.dtype.is_floating_point or name.endswith(('running_mean', 'running_var')):
            continue
        stacked = torch.stack([s[name] for s in honest])
        slack = 1e-6 * (1 + stacked.abs().max())
        assert (value >= stacked.min(0).values - slack).all() and (value <= stacked.max(0).values + slack).all(), name
    if 'norm_bound' in section:
        assert [(e.reason, e.robot_id) for e in events] == [('norm_exceeded', attacker)]
    # Undefended, the same attack leaves the honest range.
    _, bare, *_ = _round(_config(tiny_simgrasp), setting, attacks=[Attack('low:1', 'scale100')])
    moved = [n for n, v in bare.items() if v.dtype.is_floating_point and 'running' not in n]
    assert any((bare[n] > torch.stack([s[n] for s in honest]).max(0).values + 1e-3).any() for n in moved)


@pytest.mark.parametrize('method', ['mtf_avg', 'mtf_nova', 'fedavg'])
def test_defences_keep_two_n_models_per_round(tiny_simgrasp, setting, method):
    config = _config(tiny_simgrasp, aggregator='median', norm_bound={'max_relative': 0.2})
    state, result, summary, events, *_ = _round(config, setting, method=method)
    params = sum(v.numel() for v in state.values() if v.dtype.is_floating_point)
    assert summary['transfers'] == 2 * N and summary['parameter_bytes'] == 2 * N * params * 4
    assert result.keys() == state.keys()
    assert {e.reason for e in events} == {'median'}   # honest updates are within the bound


def test_a_forging_coordinator_is_clipped_at_the_server(tiny_simgrasp, setting):
    config = _config(tiny_simgrasp, norm_bound={'max_relative': 0.2})
    *_, events, _, adversary = _round(config, setting, attacks=[Attack('top:2', 'forged_aggregate')])
    assert [(e.tier, e.reason, e.robot_id) for e in events] == [('server', 'clipped', adversary.attacks[0].robot)]


def test_the_server_refuses_a_sign_flipped_robot_first_in_flat_fedavg(tiny_simgrasp, setting):
    config = _config(tiny_simgrasp, direction_z=3.0)
    *_, events, _, _ = _round(config, setting, method='fedavg', attacks=[Attack('robot_0', 'sign_flip')])
    checked, first, *more = events
    assert checked.reason == 'direction_checked' and len(checked.cosines) == N
    assert min(checked.cosines, key=checked.cosines.get) == 'robot_0' and checked.cosines['robot_0'] < 0
    assert (first.tier, first.reason, first.robot_id) == ('server', 'misdirected', 'robot_0')
    assert first.cosine == checked.cosines['robot_0'] and first.cosine < 0 < first.bound == checked.bound
    assert first.detail().startswith('update cosine -0.')
    assert len(more) < (N - 1) // 2 and {e.reason for e in more} <= {'misdirected'}


@pytest.mark.parametrize('method, attacker', [('fedavg', 'robot_2'), ('mtf_avg', 'low:1')])
def test_a_robot_claiming_a_hundred_times_its_samples_weighs_what_it_registered(tiny_simgrasp, setting, method,
                                                                                  attacker):
    """The model weighs the robot's registered count, at the server in a flat round, at its coordinator
    in a tier (which then sends the cluster's honest total): the round is the honest one."""
    config = _config(tiny_simgrasp)
    _, honest, *_ = _round(config, setting, method=method)
    _, attacked, _, events, _, adversary = _round(config, setting, method=method,
                                                  attacks=[Attack(attacker, 'inflated_weight')])
    robot, sizes = adversary.attacks[0].robot, {r: len(ix) for r, ix in setting[1].items()}
    plan = plan_round(setting[2], round_index=0, method=method, top_level_count=2)
    [event] = events
    assert (event.reason, event.robot_id, event.claimed, event.bound) == (
        'weight_capped', robot, 100 * sizes[robot], sizes[robot])
    assert (event.tier, event.by) == (('server', 'server') if method == 'fedavg' else
                                      ('cluster', plan.coordinator_of(robot)))
    for name, value in honest.items():
        torch.testing.assert_close(attacked[name], value, rtol=1e-6, atol=1e-7)


def test_a_dropped_member_still_moves_its_models(tiny_simgrasp, setting):
    *_, summary, _, _, _ = _round(_config(tiny_simgrasp), setting, attacks=[Attack('top:2', 'dropped_member')])
    assert summary['transfers'] == 2 * N


def _tiny_experiment(tmp_path, root, *, rounds: int, defences: dict):
    """An experiment config of MTF-Grasp-Avg over 4 robots (one coordinator) on the tiny set."""
    import yaml

    config = tmp_path / 'tiny.yaml'
    config.write_text(yaml.safe_dump({
        'name': 'tiny', 'seed': 3, 'methods': ['mtf_avg'],
        'model': {'arch': 'ggcnn2', 'channels': 'depth', 'input_size': 32},
        'data': {'root': str(root), 'test_fraction': 0.2},
        'partition': {'robots': 4, 'min_samples': 5},
        'federation': {'rounds': rounds, 'top_level': 1, 'seed_epochs': 1, 'local_epochs': 1},
        'defences': defences}))
    return config


def test_experiment_writes_attacks_and_defences_per_round(tmp_path, tiny_simgrasp, capsys):
    config = _tiny_experiment(tmp_path, tiny_simgrasp, rounds=2,
                              defences={'norm_bound': {'max_relative': 0.2, 'action': 'reject'}})
    out = tmp_path / 'out'
    assert main(['experiment', '--config', str(config), '--out', str(out), '--no-progress',
                 '--attack', 'low:1:scale100:1']) == 0
    result = json.loads((out / 'results.json').read_text())
    attacker = result['attacks'][0]['robot']
    assert result['attacks'] == [{'robot': attacker, 'kind': 'scale100', 'from_round': 1}]
    rounds = result['methods']['mtf_avg']['defences_per_round']
    assert rounds[0] == {'clipped': 0, 'rejected': 0, 'implausible': 0, 'audit_mismatch': 0, 'member_missing': 0,
                         'weight_capped': 0, 'events': []}
    assert rounds[1]['rejected'] == 1 and rounds[1]['events'][0]['robot_id'] == attacker
    capsys.readouterr()
    assert main(['experiment', '--config', str(config), '--out', str(out), '--attack', 'low:9:noise']) == 2
    assert capsys.readouterr().err.strip() == "mtf-grasp experiment: error: --attack: 'low:9': round 0 has 3 low-level robots"
    assert main(['experiment', '--config', str(config), '--out', str(out), '--attack', 'robot_1:noise:5']) == 2
    assert capsys.readouterr().err.strip() == 'mtf-grasp experiment: error: --attack: attack from round 5: rounds are 0..1'


# -- coordinator accountability: receipts and audits (audit.py) -----------------------------------

def test_audit_draws_are_seeded_per_round_and_coordinator_and_hit_the_rate():
    from mtf_grasp.federated.audit import audited

    draws = [audited(seed=7, round_index=r, coordinator='robot_3', rate=0.3) for r in range(4000)]
    assert draws == [audited(seed=7, round_index=r, coordinator='robot_3', rate=0.3) for r in range(4000)]
    assert abs(sum(draws) / len(draws) - 0.3) < 0.03
    assert draws != [audited(seed=7, round_index=r, coordinator='robot_4', rate=0.3) for r in range(4000)]
    assert not any(audited(seed=7, round_index=r, coordinator='robot_3', rate=0.0) for r in range(50))
    assert all(audited(seed=7, round_index=r, coordinator='robot_3', rate=1.0) for r in range(50))


def test_a_recomputed_aggregate_agrees_to_rounding_and_a_forged_one_does_not():
    from mtf_grasp.federated.attacks import forged
    from mtf_grasp.federated.audit import aggregate_differs, missing_members

    reference = {'w': torch.tensor([1.0, 2.0]), 'n': torch.tensor(3)}
    honest = {'w': torch.tensor([1.5, 1.0]), 'n': torch.tensor(3)}
    assert not aggregate_differs({'w': honest['w'] + 1e-7, 'n': honest['n']}, honest, reference)
    assert aggregate_differs(forged(honest, reference), honest, reference)
    assert missing_members(['robot_1', 'robot_2', 'robot_3'], ['robot_3', 'robot_1']) == ['robot_2']


def test_an_audit_accepts_eq8_with_or_without_the_last_step_and_nothing_else():
    # The disagreeing pair of above: with the last step, robot_2 alone goes ((1/3, 0)); a coordinator
    # that never got the previous global model drops both and sends its seed ((0, 0)). Both are eq. 8
    # as that coordinator could compute it; anything else is caught and replaced by the step's version.
    from mtf_grasp.federated.audit import caught

    seed = {'w': torch.tensor([0.0, 0.0])}
    own = _update('robot_0', [0.0, 0.0], 60)
    members = [_update('robot_1', [1.0, 0.0], 30), _update('robot_2', [-1.0, 0.0], 30)]
    step = {'w': torch.tensor([1.0, 0.5], dtype=torch.float64)}

    def recompute(last_step, left_out):
        assert not left_out   # no fit check: no member may be left out
        return cluster_aggregate(own, members, base='avg', reading='with_coordinator', seed_state=seed,
                                 defences=DefenceConfig(direction_z=1.0), last_step=last_step)

    assert caught({'w': torch.tensor([1 / 3, 0.0])}, recompute, seed, last_step=step) is None
    assert caught({'w': torch.tensor([0.0, 0.0])}, recompute, seed, last_step=step) is None
    forged = caught({'w': torch.tensor([-1 / 3, 0.0])}, recompute, seed, last_step=step)
    assert forged.state['w'].tolist() == pytest.approx([1 / 3, 0.0])
    # A server that does not know the step itself accepts only the stepless version.
    assert caught({'w': torch.tensor([1 / 3, 0.0])}, recompute, seed, last_step=None) is not None


def test_an_audit_replaces_a_forged_aggregate_and_costs_one_fetch_per_cluster_model(tiny_simgrasp, setting):
    config = _config(tiny_simgrasp, audit_rate=1.0)
    state, result, summary, events, _, adversary = _round(config, setting, attacks=[Attack('top:2', 'forged_aggregate')])
    liar = adversary.attacks[0].robot
    assert [(e.tier, e.reason, e.robot_id) for e in events] == [('server', 'audit_mismatch', liar)]
    # The audited round ends where the honest one does: the server used the recomputed aggregate.
    _, clean, *_ = _round(_config(tiny_simgrasp), setting)
    for name, value in clean.items():
        assert torch.allclose(result[name].double(), value.double(), rtol=1e-5, atol=1e-7), name
    # Audited, every cluster's N models (coordinators' own and members') travel once more.
    params = sum(v.numel() for v in state.values() if v.dtype.is_floating_point)
    assert summary['transfers'] == 3 * N and summary['parameter_bytes'] == 3 * N * params * 4


def test_an_honest_audited_round_is_not_flagged(tiny_simgrasp, setting):
    config = _config(tiny_simgrasp, audit_rate=1.0, check_members=True, aggregator='trimmed_mean')
    *_, events, _, _ = _round(config, setting)
    assert {e.reason for e in events} == {'trimmed_mean'}


def test_receipts_catch_a_dropped_member_and_the_coordinator_is_not_top_level_again(tmp_path, tiny_simgrasp):
    config = _tiny_experiment(tmp_path, tiny_simgrasp, rounds=3, defences={'check_members': True})
    out = tmp_path / 'out'
    assert main(['experiment', '--config', str(config), '--out', str(out), '--no-progress',
                 '--attack', 'top:1:dropped_member']) == 0
    result = json.loads((out / 'results.json').read_text())
    liar = result['attacks'][0]['robot']
    run = result['methods']['mtf_avg']
    assert run['defences_per_round'][0]['member_missing'] == 1
    assert run['defences_per_round'][0]['events'] == [{'tier': 'server', 'by': 'server', 'reason': 'member_missing',
                                                       'robot_id': liar}]
    assert liar in run['top_level_per_round'][0]
    assert all(liar not in top for top in run['top_level_per_round'][1:])
    assert all(r['member_missing'] == 0 for r in run['defences_per_round'][1:])


def test_the_attack_tables_seed_check_column_measures_the_fleets_default_defences():
    """docs/security.md reports the fleet's defaults through the attack table's `seed_check` column;
    when the defaults change, measure them in a column of their own rather than edit this one."""
    root = Path(__file__).resolve().parents[3]
    table = runpy.run_path(str(root / 'benchmarks/attack_table.py'))
    column = experiment_from_mapping({'defences': table['DEFENCES']['seed_check']}, 'attack_table').defences
    fleet = load_experiment_config(root / 'config/experiments/quantity_skew_defended.yaml').defences
    assert column == fleet


def test_the_members_only_column_runs_the_fleets_defaults_under_members_only_against_its_own_clean_run(tmp_path):
    """A column that reads eq. 8 otherwise is paired with the fault-free run of that reading, not the protocol's.
    The candidate defaults (config/experiments/quantity_skew_defended_members_only.yaml) are what the
    `members_only_rho2` column measured: the fleet's defences with ρ = 2, eq. 8 over the members only."""
    root = Path(__file__).resolve().parents[3]
    table = runpy.run_path(str(root / 'benchmarks/attack_table.py'))

    def config(column):
        path = tmp_path / f'{column}.yaml'
        path.write_text(yaml.safe_dump(table['config_for']('data', column, 0, 10)))
        return load_experiment_config(path)

    column, protocol = config('members_only'), config('seed_check')
    assert column.defences == protocol.defences
    assert (column.federation.tier_aggregate, protocol.federation.tier_aggregate) == ('members_only', 'with_coordinator')
    clean = config(table['undefended']('members_only'))
    assert clean.federation.tier_aggregate == 'members_only' and clean.defences.fit_ratio is None
    assert [table['undefended'](c) for c in ('seed_check', 'without', 'offline')] == ['none'] * 3
    # The measuring column (its seed check refusing only beyond 1000×) and the one with the ρ it chose:
    # the same reading and defences otherwise, paired with that reading's clean run.
    for name, ratio in (('members_only_measured', 1000), ('members_only_rho2', 2)):
        other = config(name)
        assert other.federation.tier_aggregate == 'members_only' and other.defences.seed_ratio == ratio
        assert replace(other.defences, seed_ratio=1.5) == column.defences
        assert table['undefended'](name) == 'members_only_none'
    rho2 = config('members_only_rho2')
    candidate = load_experiment_config(root / 'config/experiments/quantity_skew_defended_members_only.yaml')
    fleet = load_experiment_config(root / 'config/experiments/quantity_skew_defended.yaml')
    assert rho2.defences == candidate.defences and candidate.defences.seed_ratio == 2.0
    assert rho2.federation.tier_aggregate == candidate.federation.tier_aggregate == 'members_only'
    assert candidate.federation.coordinator_epochs == fleet.federation.coordinator_epochs
