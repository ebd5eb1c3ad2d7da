"""The branch contract (nn/branches.py): Split, the one-step shorthand, the cached spec, describe(), one input check."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from inception_lab.models import googlenet as gn
from inception_lab.models import inception_v3 as v3
from inception_lab.nn import branches
from inception_lab.nn.branches import MultiBranch, Split, check_block_input, network_input_checked
from inception_lab.nn.folding import fold_batchnorm
from inception_lab.nn.layers import ConvBNReLU, ConvReLU


class _TwoDialects(MultiBranch):
    """A one-step branch (shorthand), a named multi-step branch, and a Split step."""

    def __init__(self) -> None:
        super().__init__(8)
        self.add_branch("branch1x1", ConvReLU(8, 4, 1))
        self.add_branch("branch3x3", ("branch3x3_1", ConvReLU(8, 6, 1)),
                        Split(("branch3x3_2a", ConvReLU(6, 5, (1, 3), padding=(0, 1))),
                              ("branch3x3_2b", ConvReLU(6, 5, (3, 1), padding=(1, 0)))))


def test_shorthand_names_the_attribute_after_the_branch():
    module = _TwoDialects()
    assert isinstance(module.branch1x1, ConvReLU)
    assert [b.steps for b in module.branches] == [(("branch1x1",),),
                                                  (("branch3x3_1",), ("branch3x3_2a", "branch3x3_2b"))]
    # v1 keeps torchvision's Sequential keys with the shorthand: branch2.0.conv.weight
    assert "branch2.0.conv.weight" in gn.Inception(16, 4, 6, 8, 2, 4, 4).state_dict()


def test_split_runs_its_layers_on_one_input_and_concatenates():
    module = _TwoDialects().eval()
    x = torch.randn(2, 8, 7, 7)
    with torch.no_grad():
        y = module.branch3x3_1(x)
        expected = torch.cat([module.branch1x1(x), module.branch3x3_2a(y), module.branch3x3_2b(y)], dim=1)
        torch.testing.assert_close(module(x), expected)
    assert module.branch_channels == {"branch1x1": 4, "branch3x3": 10}


def test_describe_prints_the_data_flow():
    module_c = v3.InceptionE(1280)
    assert module_c.describe().splitlines() == [
        "InceptionE: 1280 -> 2048 channels, 4 branches concatenated",
        "  branch1x1: 1x1(320)",
        "  branch3x3: 1x1(384) -> [1x3(384) | 3x1(384)]",
        "  branch3x3dbl: 1x1(448) -> 3x3(384) -> [1x3(384) | 3x1(384)]",
        "  branch_pool: 3x3 avg-pool -> 1x1(192)",
    ]
    assert "  branch3x3: 3x3/2(384)" in v3.InceptionB(288).describe()
    assert "  branch4: 3x3 max-pool -> 1x1(32)" in gn.Inception(192, 64, 96, 128, 16, 32, 32).describe()


def test_the_spec_is_cached_and_recomputed_when_the_layers_change():
    module = _TwoDialects()
    assert module.spec() is module.spec()  # computed once
    before = module.spec()
    module.add_branch("branch_pool", ("pool", nn.MaxPool2d(3, 1, 1)), ("branch_pool", ConvReLU(8, 2, 1)))
    assert module.spec() is not before and module.out_channels == 4 + 10 + 2
    module.branch_pool = ConvReLU(8, 3, 1)  # a layer replaced
    assert module.branch_channels["branch_pool"] == 3


def test_folding_batchnorm_recomputes_the_copys_spec():
    module = gn.Inception(16, 4, 6, 8, 2, 4, 4, conv_block=ConvBNReLU).eval()
    assert module.spec().branches[0].chain[0].batchnorm  # conv -> BN
    folded = fold_batchnorm(module)
    assert not folded.spec().branches[0].chain[0].batchnorm and module.spec().branches[0].chain[0].batchnorm


def test_deep_copies_keep_a_correct_spec():
    module = _TwoDialects()
    module.spec()
    twin = copy.deepcopy(module)
    assert twin.spec() == module.spec() and twin.describe() == module.describe()


@pytest.mark.parametrize("steps, match", [
    ((), "needs at least one step"),
    ((ConvReLU(8, 4, 1), ConvReLU(4, 4, 1)), "a bare module is a one-step branch"),
    (([("a", ConvReLU(8, 4, 1)), ("b", ConvReLU(8, 4, 1))],), "or a Split of such pairs; got list"),
    ((("a", "not a module"),), "must be an nn.Module"),
])
def test_add_branch_says_what_a_step_may_be(steps, match):
    with pytest.raises(ValueError, match=match):
        MultiBranch(8).add_branch("b", *steps)


def test_split_needs_two_named_layers():
    with pytest.raises(ValueError, match="at least two"):
        Split(("a", nn.Identity()))
    with pytest.raises(ValueError, match="must be an nn.Module"):
        Split(("a", nn.Identity()), ("b", 3))


def test_blocks_check_their_input_alone_and_the_network_checks_once(monkeypatch):
    module = gn.Inception(16, 4, 6, 8, 2, 4, 4)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 16, H, W\)"):
        module(torch.zeros(1, 3, 8, 8))
    assert check_block_input(torch.zeros(1, 16, 8, 8), 16, "m")
    with network_input_checked():
        assert not check_block_input(torch.zeros(1, 3, 8, 8), 16, "m")  # inside a checked forward: skipped
    assert check_block_input(torch.zeros(1, 16, 8, 8), 16, "m")  # and back outside

    model = gn.mini_googlenet(aux_logits=False).eval()
    network_checks, block_checks = [], []
    check_input = model.check_input
    monkeypatch.setattr(model, "check_input", lambda x: network_checks.append(tuple(x.shape)) or check_input(x))
    monkeypatch.setattr(branches, "check_image_batch", lambda x, channels, who: block_checks.append(who))
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    assert network_checks == [(1, 3, 32, 32)] and block_checks == []  # one check per forward, none in the modules
