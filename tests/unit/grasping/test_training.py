"""Local training (loss goes down, bit-repeatable, FedProx pull) and rectangle-metric evaluation."""
import contextlib

import numpy as np
import pytest
import torch

from mtf_grasp.grasping import EvalResult, ModelSpec, build_model, evaluate, open_dataset, train_epochs, train_loop

SPEC = ModelSpec(width=8, input_size=32)


@pytest.fixture(scope='module')
def dataset(simgrasp_small):
    return open_dataset(simgrasp_small, spec=SPEC, augment=True)


def fresh_model(seed=0):
    torch.manual_seed(seed)
    return build_model(SPEC)


@pytest.mark.slow
def test_short_training_lowers_the_loss(dataset):
    stats = train_epochs(fresh_model(), dataset, indices=range(16), epochs=4, lr=3e-3, batch_size=4, seed=0)
    assert stats.steps == 16 and len(stats.epoch_losses) == 4
    assert stats.epoch_losses[-1] < 0.7 * stats.epoch_losses[0]


def test_same_weights_indices_and_seed_give_identical_bits(dataset):
    results = []
    for _ in range(2):
        model = fresh_model()
        stats = train_epochs(model, dataset, indices=[3, 1, 4, 5, 9, 2], epochs=2, lr=1e-3, batch_size=4,
                             seed=7, optimizer='sgd', momentum=0.9)
        results.append((stats, model.state_dict()))
    (s1, w1), (s2, w2) = results
    assert s1.epoch_losses == s2.epoch_losses
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    other = fresh_model()
    train_epochs(other, dataset, indices=[3, 1, 4, 5, 9, 2], epochs=2, lr=1e-3, batch_size=4, seed=8,
                 optimizer='sgd')
    assert not all(torch.equal(w1[k], other.state_dict()[k]) for k in w1)


@pytest.mark.parametrize('optimizer', ['adam', 'sgd'])
def test_the_loops_speed_ups_change_no_bit(dataset, monkeypatch, optimizer):
    """The loop trains without deterministic mode's NaN fill of new tensors (a kernel reading memory
    it never wrote would show as NaN or changed bits) and with foreach optimisers: the weights are
    the bits the plain loop gives, so stored runs stay reproducible."""
    def train(model):
        return train_epochs(model, dataset, indices=[3, 1, 4, 5, 9, 2], epochs=2, lr=1e-3, batch_size=4, seed=7,
                            optimizer=optimizer, weight_decay=1e-4, precision='auto')

    quick = fresh_model()
    train(quick)
    assert torch.utils.deterministic.fill_uninitialized_memory    # restored after the loop

    @contextlib.contextmanager
    def deterministic_with_fill():
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(False)

    def one_tensor_at_a_time(model, *, name, lr, momentum, weight_decay):
        if name == 'adam':
            return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, foreach=False)
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                               foreach=False)

    monkeypatch.setattr(train_loop, 'deterministic', deterministic_with_fill)
    monkeypatch.setattr(train_loop, 'make_optimizer', one_tensor_at_a_time)
    plain = fresh_model()
    train(plain)
    for name, value in quick.state_dict().items():
        assert torch.equal(value, plain.state_dict()[name]), name   # same arithmetic, same precision: same bits


@pytest.mark.slow
def test_prox_term_keeps_weights_nearer_the_reference(dataset):
    def distance_after(mu):
        model = fresh_model()
        reference = {k: v.clone() for k, v in model.state_dict().items()}
        train_epochs(model, dataset, indices=range(8), epochs=2, lr=1e-2, batch_size=4, seed=0,
                     optimizer='sgd', prox_mu=mu, prox_reference=reference)
        return sum(float(((p.detach() - reference[n]) ** 2).sum()) for n, p in model.named_parameters())
    assert distance_after(50.0) < distance_after(0.0)


def test_early_stop_from_the_epoch_callback(dataset):
    seen = []
    stats = train_epochs(fresh_model(), dataset, indices=range(4), epochs=5, lr=1e-3, batch_size=4, seed=0,
                         on_epoch=lambda epoch, loss: seen.append(epoch) or epoch == 1)
    assert seen == [0, 1] and len(stats.epoch_losses) == 2


def test_every_epoch_trains_in_training_mode_even_after_an_evaluation(dataset):
    model = fresh_model()
    modes = []
    norm = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    norm.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    train_epochs(model, dataset, indices=range(4), epochs=2, lr=1e-3, batch_size=4, seed=0,
                 on_epoch=lambda epoch, loss: evaluate(model, dataset, indices=[0]) and None)
    # Epoch 1 (2 forwards: 1 batch + 1 evaluation), epoch 2 likewise: BatchNorm must learn in both.
    assert modes == [True, False, True, False]


def test_trained_model_is_left_in_the_default_memory_layout(dataset):
    model = fresh_model()
    train_epochs(model, dataset, indices=range(4), epochs=1, lr=1e-3, batch_size=4, seed=0)
    assert all(t.is_contiguous() for t in model.state_dict().values())


def test_evaluate_counts_samples_and_top_k_never_hurts(dataset):
    model = fresh_model()
    train_epochs(model, dataset, indices=range(12), epochs=2, lr=3e-3, batch_size=4, seed=0)
    top1 = evaluate(model, dataset, indices=range(12, 24), top_k=1, batch_size=5)
    top5 = evaluate(model, dataset, indices=range(12, 24), top_k=5)
    assert isinstance(top1, EvalResult) and top1.samples == 12 and len(top1.successes) == 12
    assert top1.accuracy == pytest.approx(np.mean(top1.successes))
    assert all(b or not a for a, b in zip(top1.successes, top5.successes))


def test_jaw_fit_prefers_a_fixed_size_when_jaws_are_constant(dataset, simgrasp_small):
    from mtf_grasp.grasping.train_job import fit_jaw
    # The fixture's jaws are 0.6 × the box's short side and openings 1.6 ×: a constant ratio of 3/8.
    fitted = fit_jaw(SPEC, dataset, list(range(8)))
    assert fitted.jaw_px == 0.0 and fitted.jaw_ratio == pytest.approx(0.375, abs=1e-3)


@pytest.mark.parametrize('precision', ['fp32', 'bf16'])
def test_unaugmented_training_is_repeatable_at_each_precision_and_bf16_learns(simgrasp_small, precision):
    plain = open_dataset(simgrasp_small, spec=SPEC)
    states, losses = [], []
    for _ in range(2):
        model = fresh_model()
        stats = train_epochs(model, plain, indices=range(16), epochs=4, lr=3e-3, batch_size=4, seed=0,
                             precision=precision)
        states.append(model.state_dict())
        losses.append(stats.epoch_losses)
    for name, value in states[0].items():
        assert torch.equal(value, states[1][name]), name    # same machine, same precision: same bits
    assert losses[0][-1] < 0.8 * losses[0][0]
    assert plain.tensors(3)[0] is plain.tensors(3)[0]         # made once, then reused


def test_bf16_and_fp32_training_agree_within_bf16_rounding(simgrasp_small):
    plain = open_dataset(simgrasp_small, spec=SPEC)
    finals = {}
    for precision in ('fp32', 'bf16'):
        finals[precision] = train_epochs(fresh_model(), plain, indices=range(16), epochs=3, lr=3e-3, batch_size=4,
                                         seed=0, precision=precision).epoch_losses
    assert finals['bf16'][0] == pytest.approx(finals['fp32'][0], rel=0.05)


def test_an_unknown_precision_is_refused(dataset):
    from mtf_grasp.errors import InputError

    with pytest.raises(InputError, match="precision 'fp8'"):
        train_epochs(fresh_model(), dataset, indices=range(4), epochs=1, lr=1e-3, batch_size=4, seed=0,
                     precision='fp8')
