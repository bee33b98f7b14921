"""The attack transforms of issue 19 on hand-computed numbers, and --attack's parsing and resolution."""
import math

import pytest
import torch

from mtf_grasp.federated import RobotProfile, plan_round
from mtf_grasp.federated.attacks import (Adversary, Attack, RotatedLabels, forged, inflated, noised,
                                         parse_attack, poisoned, resolve, scaled)

REFERENCE = {'w': torch.tensor([1.0, 2.0]), 'bn.running_mean': torch.tensor([0.5]),
             'bn.num_batches_tracked': torch.tensor(3)}
TRAINED = {'w': torch.tensor([4.0, -2.0]), 'bn.running_mean': torch.tensor([0.7]),
           'bn.num_batches_tracked': torch.tensor(5)}   # Δw = (3, −4), ‖Δ‖ = 5


@pytest.mark.parametrize('kind, expected', [('scale10', [31.0, -38.0]), ('scale100', [301.0, -398.0]),
                                            ('sign_flip', [-2.0, 6.0])])
def test_scaling_attacks_scale_the_update_not_the_statistics(kind, expected):
    attacked = poisoned(kind, TRAINED, REFERENCE, seed=0)
    assert attacked['w'].tolist() == expected
    assert attacked['bn.running_mean'].item() == pytest.approx(0.7)
    assert attacked['bn.num_batches_tracked'].item() == 5


def test_noise_has_the_update_s_norm_and_is_seeded():
    attacked = noised(TRAINED, REFERENCE, seed=7)
    delta = attacked['w'].double() - REFERENCE['w'].double()
    assert float(delta.norm()) == pytest.approx(5.0, rel=1e-6)
    assert torch.equal(attacked['w'], noised(TRAINED, REFERENCE, seed=7)['w'])
    assert not torch.equal(attacked['w'], noised(TRAINED, REFERENCE, seed=8)['w'])
    assert attacked['bn.running_mean'].item() == pytest.approx(0.7)


def test_a_forged_aggregate_is_a_scale100_model_of_the_aggregate():
    assert forged(TRAINED, REFERENCE)['w'].tolist() == scaled(TRAINED, REFERENCE, factor=100.0)['w'].tolist()


def test_an_inflated_profile_claims_twenty_times_with_a_uniform_histogram():
    claimed = inflated(RobotProfile('robot_3', 12, (10, 2, 0)))
    assert claimed == RobotProfile('robot_3', 240, (80, 80, 80))
    # 20·7 = 140 is not a multiple of 3: rounded up to 141, still perfectly uniform.
    assert inflated(RobotProfile('robot_3', 7, (7, 0, 0))) == RobotProfile('robot_3', 141, (47, 47, 47))


class _Data:
    augmented = False
    root = 'somewhere'

    def tensors(self, i, device='cpu'):
        y = torch.zeros(4, 1, 2)
        y[:, 0, 0] = torch.tensor([0.8, math.cos(2 * 0.3), math.sin(2 * 0.3), 0.5])   # a grasp at θ = 0.3
        y[1, 0, 1] = 1.0                                                                  # background
        return torch.zeros(1, 1, 2), y

    def item(self, i, rng=None):
        return self.tensors(i)


def test_rotated_labels_turn_every_grasp_by_ninety_degrees():
    data = RotatedLabels(_Data())
    _, y = data.tensors(0)
    turned = 0.3 + math.pi / 2
    assert y[:, 0, 0].tolist() == pytest.approx([0.8, math.cos(2 * turned), math.sin(2 * turned), 0.5], abs=1e-6)
    assert y[1, 0, 1].item() == 1.0                       # no grasp there: unchanged
    assert _Data().tensors(0)[1][1, 0, 0].item() == pytest.approx(math.cos(0.6))   # the source is untouched
    assert torch.equal(data.item(0)[1], y) and data.root == 'somewhere' and not data.augmented


@pytest.mark.parametrize('text, attack', [
    ('robot_3:scale100', Attack('robot_3', 'scale100', 0)),
    ('robot_3:noise:2', Attack('robot_3', 'noise', 2)),
    ('top:1:forged_aggregate', Attack('top:1', 'forged_aggregate', 0)),
    ('low:2:rotated_labels:4', Attack('low:2', 'rotated_labels', 4)),
])
def test_parse_attack(text, attack):
    assert parse_attack(text) == attack


@pytest.mark.parametrize('text', ['robot_3', 'robot_3:scale7', ':scale10', 'robot_3:noise:x', 'scale10'])
def test_bad_attack_text_names_it(text):
    with pytest.raises(ValueError, match='KIND|needs a robot'):
        parse_attack(text)


def test_selectors_resolve_on_the_round_zero_plan():
    profiles = [RobotProfile(f'robot_{i}', n, (n,)) for i, n in enumerate([20, 4, 9, 3, 6])]
    plan = plan_round(profiles, round_index=0, method='mtf_avg', top_level_count=2)
    robots = [p.robot_id for p in profiles]
    attacks = resolve([Attack('top:2', 'dropped_member'), Attack('low:1', 'scale10', 1), Attack('robot_1', 'noise')],
                      plan=plan, robots=robots)
    assert [a.robot for a in attacks] == ['robot_2', 'robot_4', 'robot_1']
    with pytest.raises(ValueError, match="'low:4': round 0 has 3 low-level robots"):
        resolve([Attack('low:4', 'noise')], plan=plan, robots=robots)
    with pytest.raises(ValueError, match="attacking robot 'robot_9' is not one of robot_0"):
        resolve([Attack('robot_9', 'noise')], plan=plan, robots=robots)
    adversary = Adversary(attacks)
    assert adversary.kinds('robot_4', 0) == frozenset() and adversary.kinds('robot_4', 1) == {'scale10'}


def test_the_adversary_inflates_only_its_robot_s_profile_from_its_round_on():
    profiles = [RobotProfile('robot_0', 20, (20, 0)), RobotProfile('robot_1', 4, (3, 1))]
    adversary = Adversary((Attack('robot_1', 'inflated_profile', 1),))
    assert adversary.profiles(profiles, 0) == profiles
    assert adversary.profiles(profiles, 1) == [profiles[0], RobotProfile('robot_1', 80, (40, 40))]
    plan = plan_round(adversary.profiles(profiles, 1), round_index=1, method='mtf_avg', top_level_count=1)
    assert plan.top_level == ('robot_1',)


def test_the_adversary_sends_poisoned_models_and_inflated_weights_only_for_its_robot():
    from mtf_grasp.federated.rounds import ModelUpdate

    adversary = Adversary((Attack('robot_1', 'inflated_weight', 1), Attack('robot_2', 'sign_flip')))
    honest = ModelUpdate('robot_1', TRAINED, 12, 3.0, 0)
    assert adversary.sent(honest, REFERENCE, base_seed=0, purpose='train') == honest   # before its round
    inflated_weight = adversary.sent(ModelUpdate('robot_1', TRAINED, 12, 3.0, 1), REFERENCE, base_seed=0,
                                     purpose='train')
    assert inflated_weight.sample_count == 1200 and inflated_weight.state is TRAINED
    assert inflated_weight.local_steps == 3.0
    flipped = adversary.sent(ModelUpdate('robot_2', TRAINED, 12, 3.0, 0), REFERENCE, base_seed=0, purpose='train')
    assert flipped.state['w'].tolist() == [-2.0, 6.0] and flipped.sample_count == 12
