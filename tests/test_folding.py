"""fold_batchnorm: same outputs, fewer layers, BN gamma/beta replaced by a conv bias."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from inception_lab.cost import count
from inception_lab.models.bn_inception import mini_bn_inception
from inception_lab.nn.batchnorm import ScratchBatchNorm2d
from inception_lab.nn.folding import fold_batchnorm, fold_conv_bn
from inception_lab.nn.layers import ConvBNReLU


def randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BN non-trivial running statistics and affine parameters, so a wrong fold cannot pass."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, ScratchBatchNorm2d)):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.1)
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(n, generator=g) * 0.2)
    return model


def n_modules_with_params(model: nn.Module) -> int:
    return sum(1 for m in model.modules() if any(True for _ in m.parameters(recurse=False)))


@pytest.mark.parametrize("first_conv", ["plain", "separable"])
def test_fold_mini_bn_inception(first_conv):
    torch.manual_seed(0)
    model = randomise_bn(mini_bn_inception(first_conv=first_conv)).eval()
    folded = fold_batchnorm(model)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        expected, got = model(x), folded(x)
    assert expected.abs().max() > 1e-3  # the comparison is not trivially between zeros
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)

    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert n_modules_with_params(folded) == n_modules_with_params(model) - len(bns)
    before, after = count(model, (1, 3, 32, 32)), count(folded, (1, 3, 32, 32))
    bn_gamma_beta = sum(2 * b.num_features for b in bns)
    new_conv_biases = sum(b.num_features for b in bns)  # the convs had no bias (BN made it redundant)
    assert before.params - after.params == bn_gamma_beta - new_conv_biases
    assert after.macs == before.macs
    assert all(isinstance(m.bn, nn.Identity) for m in folded.modules() if isinstance(m, ConvBNReLU))


def test_fold_is_exact_in_float64_and_leaves_the_original_alone():
    torch.manual_seed(0)
    model = randomise_bn(mini_bn_inception()).double().eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    folded = fold_batchnorm(model)
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), rtol=1e-10, atol=1e-12)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())


@pytest.mark.parametrize("bn_type", [nn.BatchNorm2d, ScratchBatchNorm2d])
@pytest.mark.parametrize("conv_bias", [False, True])
@pytest.mark.parametrize("affine", [True, False])
def test_fold_sequential_pairs(bn_type, conv_bias, affine):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1, bias=conv_bias), bn_type(6, affine=affine), nn.ReLU(),
                          nn.Conv2d(6, 6, 3, groups=3, bias=conv_bias), bn_type(6, affine=affine))
    model = randomise_bn(model).double().eval()
    folded = fold_batchnorm(model)
    assert [type(m) for m in folded] == [nn.Conv2d, nn.Identity, nn.ReLU, nn.Conv2d, nn.Identity]
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), rtol=1e-10, atol=1e-12)


def test_bn_that_does_not_follow_a_conv_is_left_alone():
    model = nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3)).eval()
    assert isinstance(fold_batchnorm(model)[1], nn.BatchNorm2d)


def test_train_mode_is_refused():
    model = mini_bn_inception()
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(model)
    model.eval()
    model.inception3a.train()  # one submodule left in training mode is enough to refuse
    with pytest.raises(ValueError, match="inception3a"):
        fold_batchnorm(model)


def test_bn_without_running_stats_is_refused():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4, track_running_stats=False)).eval()
    with pytest.raises(ValueError, match="running statistics"):
        fold_batchnorm(model)
    with pytest.raises(ValueError, match="eval-mode"):
        fold_conv_bn(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    with pytest.raises(ValueError, match="torch.nn.Module"):
        fold_batchnorm("model")


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("groups", [1, 3])
@pytest.mark.parametrize("conv_bias", [False, True])
@pytest.mark.parametrize("affine", [True, False])
def test_fold_conv_bn_equals_torchs_own_fusion(dtype, tolerance, groups, conv_bias, affine):
    """The trusted reference: torch.nn.utils.fusion.fuse_conv_bn_eval gives the same weights and bias."""
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 9, 3, padding=1, groups=groups, bias=conv_bias).to(dtype).eval()
    bn = randomise_bn(nn.BatchNorm2d(9, affine=affine, eps=1e-3)).to(dtype).eval()
    ours, theirs = fold_conv_bn(conv, bn), fuse_conv_bn_eval(conv, bn)
    assert ours.weight.dtype == theirs.weight.dtype == dtype
    torch.testing.assert_close(ours.weight, theirs.weight, rtol=tolerance, atol=tolerance)
    torch.testing.assert_close(ours.bias, theirs.bias, rtol=tolerance, atol=tolerance)
    assert (ours.stride, ours.padding, ours.dilation, ours.groups) == (theirs.stride, theirs.padding, theirs.dilation,
                                                                       theirs.groups)
    assert not torch.allclose(ours.weight, conv.weight)  # the fold changed something: the check is not vacuous
