"""ScratchBatchNorm2d is nn.BatchNorm2d: outputs, running statistics and gradients, in train and eval mode."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inception_lab.nn.batchnorm import ScratchBatchNorm2d

C = 5
SETTINGS = {  # name -> (momentum, affine, track_running_stats)
    "default": (0.1, True, True),
    "momentum_0.3": (0.3, True, True),
    "cumulative": (None, True, True),
    "no_affine": (0.1, False, True),
    "no_running_stats": (0.1, True, False),
}


def make_pair(momentum, affine, track, dtype=torch.float64, eps=1e-5):
    torch.manual_seed(0)
    ref = nn.BatchNorm2d(C, eps=eps, momentum=momentum, affine=affine, track_running_stats=track).to(dtype)
    ours = ScratchBatchNorm2d(C, eps=eps, momentum=momentum, affine=affine, track_running_stats=track).to(dtype)
    if affine:  # non-trivial gamma and beta so that a wrong formula shows
        with torch.no_grad():
            ref.weight.uniform_(0.5, 2.0)
            ref.bias.uniform_(-1.0, 1.0)
            ours.weight.copy_(ref.weight)
            ours.bias.copy_(ref.bias)
    return ref, ours


def batches(n, dtype=torch.float64, shape=(8, C, 6, 7)):
    g = torch.Generator().manual_seed(1)
    # per-channel offsets and scales, so the statistics differ from channel to channel
    return [torch.randn(shape, generator=g, dtype=dtype) * torch.arange(1, C + 1, dtype=dtype)[None, :, None, None]
            + 3.0 for _ in range(n)]


def assert_same_state(ref, ours):
    for (k1, v1), (k2, v2) in zip(ref.state_dict().items(), ours.state_dict().items(), strict=True):
        assert k1 == k2
        torch.testing.assert_close(v2, v1, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("setting", SETTINGS)
def test_train_then_eval_matches_torch(setting):
    ref, ours = make_pair(*SETTINGS[setting])
    for x in batches(4):  # several training steps: outputs and running statistics agree after each
        torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)
        assert_same_state(ref, ours)
    ref.eval(), ours.eval()
    x = batches(1, shape=(3, C, 4, 4))[0]
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)
    assert_same_state(ref, ours)  # eval mode leaves the running statistics alone


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("setting", SETTINGS)
def test_gradients_match_torch(setting, train):
    ref, ours = make_pair(*SETTINGS[setting])
    for x in batches(2):  # move the running statistics away from (0, 1) before testing eval mode
        ref(x), ours(x)
    ref.train(train), ours.train(train)
    x = batches(1)[0]
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    upstream = torch.randn(x.shape, dtype=x.dtype, generator=torch.Generator().manual_seed(2))
    (ref(x_ref) * upstream).sum().backward()
    (ours(x_ours) * upstream).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=1e-10, atol=1e-10)
    if ref.affine:
        torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(ours.bias.grad, ref.bias.grad, rtol=1e-10, atol=1e-10)


def test_float32_matches_torch():
    ref, ours = make_pair(0.1, True, True, dtype=torch.float32)
    for x in batches(3, dtype=torch.float32):
        torch.testing.assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.running_var, ref.running_var)


def test_momentum_convention():
    """PyTorch's momentum=0.1 means new = 0.9 * old + 0.1 * batch (Keras would write 0.9 for this)."""
    bn = ScratchBatchNorm2d(1, momentum=0.1)
    x = torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=torch.float64).reshape(2, 1, 1, 2)  # mean 3, unbiased var 14/3
    bn.double()(x)
    torch.testing.assert_close(bn.running_mean, torch.tensor([0.9 * 0.0 + 0.1 * 3.0], dtype=torch.float64))
    torch.testing.assert_close(bn.running_var, torch.tensor([0.9 * 1.0 + 0.1 * 14 / 3], dtype=torch.float64))
    bn(x)  # second step: 0.9 * previous + 0.1 * batch
    torch.testing.assert_close(bn.running_mean, torch.tensor([0.9 * 0.3 + 0.1 * 3.0], dtype=torch.float64))
    ref = nn.BatchNorm2d(1, momentum=0.1).double()
    ref(x), ref(x)
    torch.testing.assert_close(bn.running_mean, ref.running_mean)
    torch.testing.assert_close(bn.running_var, ref.running_var)


def test_momentum_none_is_the_population_estimate_of_algorithm_2():
    """E[x] = E_B[mu_B] and Var[x] = m/(m-1) E_B[sigma_B^2]  [BN, Alg. 2, step 10]."""
    bn = ScratchBatchNorm2d(C, momentum=None).double()
    xs = batches(5)
    for x in xs:
        bn(x)
    m = xs[0].numel() // C
    mu = torch.stack([x.mean(dim=(0, 2, 3)) for x in xs])
    var = torch.stack([x.var(dim=(0, 2, 3), unbiased=False) for x in xs])
    torch.testing.assert_close(bn.running_mean, mu.mean(0))
    torch.testing.assert_close(bn.running_var, m / (m - 1) * var.mean(0))
    assert int(bn.num_batches_tracked) == 5


def test_normalises_to_zero_mean_unit_variance_in_training():
    bn = ScratchBatchNorm2d(C, affine=False).double()
    x = batches(1)[0]
    y = bn(x)
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(C, dtype=torch.float64), atol=1e-12, rtol=0)
    var = x.var(dim=(0, 2, 3), unbiased=False)
    torch.testing.assert_close(y.var(dim=(0, 2, 3), unbiased=False), var / (var + bn.eps))  # eps: just below 1


def test_state_dict_is_interchangeable_with_torch():
    ref, ours = make_pair(0.1, True, True)
    for x in batches(2):
        ref(x)
    ours.load_state_dict(ref.state_dict())
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.eval(), ref.eval()
    x = batches(1)[0]
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)
    ref.load_state_dict(ScratchBatchNorm2d(C).double().state_dict())  # and the other way round


def test_input_checks():
    bn = ScratchBatchNorm2d(3)
    with pytest.raises(ValueError, match="expects 3 channels"):
        bn(torch.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match="4D input"):
        bn(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(torch.randn(1, 3, 1, 1))
    with pytest.raises(ValueError):  # torch agrees that this cannot be trained
        nn.BatchNorm2d(3)(torch.randn(1, 3, 1, 1))
    bn.eval()
    assert bn(torch.randn(1, 3, 1, 1)).shape == (1, 3, 1, 1)  # fine in eval mode: running statistics are used


@pytest.mark.parametrize("kwargs", [dict(num_features=0), dict(num_features=3, eps=0.0),
                                    dict(num_features=3, momentum=1.5), dict(num_features=3, momentum=-0.1)])
def test_constructor_checks(kwargs):
    with pytest.raises(ValueError):
        ScratchBatchNorm2d(**kwargs)
