import gc
import weakref

import pytest
import torch

from mtf_grasp.federated import (StreamingAverage, StreamingNova, effective_steps, nova_average,
                                 weighted_average)


def t(*values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


def test_fedavg_by_hand():
    merged = weighted_average([({'w': t(1.0, 2.0), 'bn.num_batches_tracked': t(10, dtype=torch.int64)}, 1),
                               ({'w': t(3.0, 6.0), 'bn.num_batches_tracked': t(20, dtype=torch.int64)}, 3)])
    assert merged['w'].tolist() == [2.5, 5.0]
    assert merged['w'].dtype == torch.float32
    assert merged['bn.num_batches_tracked'].item() == 18   # 17.5 rounds half to even
    assert merged['bn.num_batches_tracked'].dtype == torch.int64


def test_streaming_equals_batch_result():
    generator = torch.Generator().manual_seed(0)
    states = [{'a': torch.randn(3, 4, generator=generator), 'b': torch.randn(5, generator=generator)}
              for _ in range(6)]
    weights = [3, 17, 1, 40, 8, 11]
    batch = {k: sum(w * s[k].double() for s, w in zip(states, weights)) / sum(weights) for k in ('a', 'b')}
    accumulator = StreamingAverage()
    for state, weight in zip(states, weights):
        accumulator.add(state, weight)
    streamed = accumulator.result()
    for key in batch:
        torch.testing.assert_close(streamed[key], batch[key].float(), rtol=0, atol=1e-6)
    assert accumulator.total_weight == sum(weights)


def test_streaming_keeps_no_incoming_model():
    accumulator = StreamingAverage()
    refs = []
    for value in (1.0, 2.0, 3.0):
        state = {'w': torch.full((1000,), value)}
        refs.append(weakref.ref(state['w']))
        accumulator.add(state, 1)
        del state
    gc.collect()
    assert all(ref() is None for ref in refs)   # O(|θ|): only the running sum remains
    assert accumulator.result()['w'][0].item() == 2.0


def test_mismatched_entries_and_bad_weight_are_refused():
    accumulator = StreamingAverage()
    accumulator.add({'w': t(1.0)}, 1)
    with pytest.raises(ValueError, match='differ'):
        accumulator.add({'v': t(1.0)}, 1)
    with pytest.raises(ValueError, match='positive'):
        accumulator.add({'w': t(1.0)}, 0)
    with pytest.raises(ValueError, match='nothing'):
        StreamingAverage().result()


def test_effective_steps_formula():
    assert effective_steps(7) == 7.0
    # τ=4, ρ=0.5: (4 − 0.5·(1 − 0.0625)/0.5)/0.5 = 6.125
    assert effective_steps(4, 0.5) == pytest.approx(6.125)
    # equals the summed momentum weights Σ_{m=1..τ} (1 − ρ^m)/(1 − ρ) of each gradient
    for tau, rho in [(1, 0.9), (10, 0.9), (25, 0.3)]:
        expected = sum((1 - rho ** m) / (1 - rho) for m in range(1, tau + 1))
        assert effective_steps(tau, rho) == pytest.approx(expected)
    with pytest.raises(ValueError):
        effective_steps(3, 1.0)


def test_fednova_by_hand():
    reference = {'w': t(0.0), 'bn.running_mean': t(0.0)}
    # d_A = (0 − (−2))/2 = 1, d_B = (0 − (−3))/1 = 3, p = ½ each: τ_eff = 1.5, d = 2 -> w = −3
    merged = nova_average(reference, [({'w': t(-2.0), 'bn.running_mean': t(4.0)}, 1, 2.0),
                                      ({'w': t(-3.0), 'bn.running_mean': t(8.0)}, 1, 1.0)])
    assert merged['w'].item() == pytest.approx(-3.0)
    assert merged['bn.running_mean'].item() == pytest.approx(6.0)   # statistics: plain average


def test_fednova_weights_against_the_formula():
    generator = torch.Generator().manual_seed(1)
    reference = {'w': torch.randn(8, generator=generator)}
    updates = [({'w': torch.randn(8, generator=generator)}, n, a) for n, a in [(10, 3.0), (50, 12.5), (25, 7.0)]]
    total = sum(n for _, n, _ in updates)
    tau_eff = sum(n / total * a for _, n, a in updates)
    direction = sum(n / total * (reference['w'].double() - s['w'].double()) / a for s, n, a in updates)
    accumulator = StreamingNova(reference)
    for update in updates:
        accumulator.add(update[0], update[1], steps=update[2])
    assert accumulator.steps_result() == pytest.approx(tau_eff)
    torch.testing.assert_close(accumulator.result()['w'], (reference['w'].double() - tau_eff * direction).float())


def test_fednova_with_equal_steps_is_fedavg():
    generator = torch.Generator().manual_seed(2)
    reference = {'w': torch.randn(6, generator=generator)}
    states = [{'w': torch.randn(6, generator=generator)} for _ in range(3)]
    nova = nova_average(reference, [(s, n, 4.0) for s, n in zip(states, (1, 2, 5))])
    avg = weighted_average([(s, n) for s, n in zip(states, (1, 2, 5))])
    torch.testing.assert_close(nova['w'], avg['w'])
