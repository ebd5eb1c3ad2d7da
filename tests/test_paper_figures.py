"""The papers' module figures as data (papers/*.py) against the modules we build, and the released model's listed
differences against the released model.

The figures are transcribed from the papers' drawings and captions (papers/figures.py says how), independently of
the code: a module built wrong fails here. CPU only, no forward pass (the branch structure comes from the spec).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inception_lab.models import bn_inception as bn
from inception_lab.models import googlenet as gn
from inception_lab.models import inception_v2 as v2
from inception_lab.models import inception_v3 as v3
from inception_lab.nn.branches import MultiBranch, to_spec
from inception_lab.nn.layers import ConvReLU, conv_bn_relu_tv
from inception_lab.nn.reduction import GridReduction
from inception_lab.papers import batch_normalization, going_deeper, rethinking
from inception_lab.papers.figures import ModuleFigure, branch_matches, built_branches, compare, op_token, parse

ALL_FIGURES = (going_deeper.FIG2A, going_deeper.FIG2B, batch_normalization.MODULE, batch_normalization.STRIDE2_MODULE,
               rethinking.FIG4, rethinking.FIG5, rethinking.FIG6, rethinking.FIG7, rethinking.FIG10)


@pytest.fixture(scope="module")
def nets():
    """Every network whose modules the book calls the paper's, and the released ones (PyTorch's default init)."""
    return dict(googlenet=gn.googlenet(init_weights="pytorch"), googlenet_tv=gn.googlenet_tv(init_weights="pytorch"),
                bn_inception=bn.bn_inception(init_weights="pytorch"),
                inception_v3=v3.inception_v3(init_weights="pytorch"),
                inception_v3_paper=v3.inception_v3_paper(init_weights="pytorch"),
                inception_v2=v2.inception_v2(init_weights="pytorch"))


def assert_is(figure: ModuleFigure, module: MultiBranch) -> None:
    differences = compare(figure, module.spec())
    assert not differences, f"{type(module).__name__} is not {figure.name}:\n" + "\n".join(differences) \
        + "\n" + module.describe()


# --- the vocabulary ---------------------------------------------------------------------------------------------
def test_tokens_say_what_the_figures_draw_and_nothing_more():
    assert parse("3x3/2") == parse("3x3/2") and parse("3x3/2").stride == 2 and parse("1x7").kernel == (1, 7)
    assert parse("pool").kernel is None and parse("pool").pool is None and parse("max pool/2").pool == "max"
    assert branch_matches(("pool", "1x1"), ("3x3 avg pool", "1x1"))  # "Pool": any kind, any size
    assert branch_matches(("max pool",), ("3x3 max pool",)) and not branch_matches(("max pool",), ("3x3 avg pool",))
    assert not branch_matches(("3x3 max pool",), ("2x2 max pool",)) and not branch_matches(("pool",), ("pool/2",))
    assert not branch_matches(("1x1", "3x3"), ("1x1", "3x3", "3x3"))  # one layer more is another module
    assert branch_matches(("1x1", ("1x3", "3x1")), ("1x1", ("3x1", "1x3")))  # side by side: no order
    for bad in ("3x3 conv", "5", "maxpool", ("1x3",)):
        with pytest.raises(ValueError, match="not a figure token"):
            parse(bad)
    with pytest.raises(ValueError, match="not a figure token"):
        ModuleFigure("X", "Fig. 1", "", (("1x1", "conv"),))
    with pytest.raises(ValueError, match="spec"):
        built_branches(gn.Inception(8, 2, 2, 2, 2, 2, 2))  # the module, not its spec
    with pytest.raises(ValueError, match="n is an integer of at least 2"):
        rethinking.fig6(1)


def test_every_figure_is_written_once_in_its_paper_file():
    for figure in ALL_FIGURES:
        assert figure.describe().splitlines()[0].startswith(figure.name)
    assert rethinking.FIG6 == rethinking.fig6(rethinking.FACTORIZATION_N_17X17)
    # Fig. 5 is Fig. 4 with the 5x5 branch replaced by two 3x3, and BN-Inception's module [BN, Fig. 5]
    assert rethinking.FIG4.branches[:2] == rethinking.FIG5.branches[:2]
    assert rethinking.FIG4.branches[2] == ("1x1", "5x5") and rethinking.FIG5.branches[2] == ("1x1", "3x3", "3x3")
    assert rethinking.FIG5.branches == batch_normalization.MODULE.branches
    # Fig. 4 "as described in [20]": GoogLeNet's Fig. 2(b), drawn without the pooling's kind and size
    assert all(branch_matches(f4, f2) for f4, f2 in zip(rethinking.FIG4.branches, going_deeper.FIG2B.branches,
                                                        strict=True))


# --- the paper's modules as we build them -------------------------------------------------------------------------
def test_googlenet_modules_are_fig2(nets):
    assert_is(going_deeper.FIG2A, gn.NaiveInception(192, 64, 128, 32))
    for name in going_deeper.ROW_NAMES:
        module = getattr(nets["googlenet"], f"inception{name}")
        assert_is(going_deeper.FIG2B, module)
        assert_is(rethinking.FIG4, module)  # [Rethinking, Fig. 4] is the same module


def test_bn_inception_modules_are_the_columns_of_fig5(nets):
    model = nets["bn_inception"]
    for row in batch_normalization.FIGURE5_MODULES:
        module = model.get_submodule(model.stage_of_row(row.name))
        assert_is(batch_normalization.row_figure(row), module)
    stride2 = [row.name for row in batch_normalization.FIGURE5_MODULES
               if batch_normalization.row_figure(row) is batch_normalization.STRIDE2_MODULE]
    assert stride2 == ["3c", "4e"]
    with pytest.raises(ValueError, match="not an inception module"):
        batch_normalization.row_figure(batch_normalization.ROW["conv1"])


@pytest.mark.parametrize("preset", ["inception_v3_paper", "inception_v2"])
def test_rethinking_presets_build_figs_5_6_7(nets, preset):
    model = nets[preset]
    for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
        assert_is(rethinking.FIG5, getattr(model, name))
    grid17 = [n for n, m in model.named_children() if isinstance(m, v3.InceptionC)]
    assert len(grid17) == (5 if preset == "inception_v2" else 4)
    for name in grid17:
        assert_is(rethinking.FIG6, getattr(model, name))
    for name in ("Mixed_7b", "Mixed_7c"):
        assert_is(rethinking.FIG7, getattr(model, name))


def test_module_a_option_builds_fig5_and_the_mini_presets_follow():
    assert_is(rethinking.FIG5, v3.InceptionA(192, 32, five_by_five="3x3"))
    assert_is(rethinking.FIG5, v2.mini_inception_v2(width_divisor=8).Mixed_5b)
    assert_is(rethinking.FIG5, v3.mini_inception_v3(five_by_five="3x3").Mixed_5b)


def test_fig10_is_the_grid_reduction_with_its_1x1():
    assert_is(rethinking.FIG10, GridReduction(288, 384, ch3x3red=192, ch3x3dbl_red=64, ch3x3dbl=96))
    assert_is(rethinking.FIG10, GridReduction(288, 384, ch3x3red=192, ch3x3dbl_red=64, ch3x3dbl=96, pool="avg"))
    # without its 1x1 (chapter 5's default, Mixed_6a's layout) it is a variation, and the check says where
    assert compare(rethinking.FIG10, GridReduction(288, 384, ch3x3dbl_red=64, ch3x3dbl=96).spec()) == [
        "branch 1: Rethinking, Fig. 10 draws 1x1 -> 3x3/2, the module has 3x3/2."]


# --- a wrong build fails --------------------------------------------------------------------------------------------
class _TwoDouble3x3(MultiBranch):
    """The module the book used to call Fig. 5: the released 5x5 replaced by two 3x3, so two double-3x3 branches."""

    def __init__(self) -> None:
        super().__init__(192)
        self.add_branch("branch1x1", conv_bn_relu_tv(192, 64, kernel_size=1))
        self.add_branch("branch5x5", nn.Sequential(conv_bn_relu_tv(192, 48, kernel_size=1),
                                                   conv_bn_relu_tv(48, 64, kernel_size=3, padding=1),
                                                   conv_bn_relu_tv(64, 64, kernel_size=3, padding=1)))
        self.add_branch("branch3x3dbl", nn.Sequential(conv_bn_relu_tv(192, 64, kernel_size=1),
                                                      conv_bn_relu_tv(64, 96, kernel_size=3, padding=1),
                                                      conv_bn_relu_tv(96, 96, kernel_size=3, padding=1)))
        self.add_branch("branch_pool", nn.Sequential(nn.AvgPool2d(3, 1, 1), conv_bn_relu_tv(192, 32, kernel_size=1)))


def test_a_module_that_is_not_the_figure_fails():
    assert compare(rethinking.FIG5, _TwoDouble3x3().spec()) == [
        "branch 2: Rethinking, Fig. 5 draws 1x1 -> 3x3, the module has 1x1 -> 3x3 -> 3x3."]
    assert compare(rethinking.FIG5, v3.InceptionA(192, 32).spec()) == [
        "branch 2: Rethinking, Fig. 5 draws 1x1 -> 3x3, the module has 1x1 -> 5x5."]
    released_b = v3.InceptionC(768, 128)
    assert compare(rethinking.FIG6, released_b.spec()) == [
        "branch 3: Rethinking, Fig. 6 draws 1x1 -> 1x7 -> 7x1 -> 1x7 -> 7x1, the module has "
        "1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7."]
    three = gn.Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel_size=3)
    assert len(compare(going_deeper.FIG2B, three.spec())) == 1
    assert "draws 4 branches" in compare(rethinking.FIG5, bn.BNInceptionModule(256, 0, 128, 160, 64, 96, "max",
                                                                               None, stride=2).spec())[0]


# --- where the released models differ: each listed difference is real --------------------------------------------
def _layer_tokens(model: nn.Module, attribute: str) -> tuple[str, ...]:
    return tuple(op_token(node) for node in to_spec(model.get_submodule(attribute)))


def _check_difference(model: nn.Module, diff) -> None:
    if diff.kind == "branch":
        for attribute in diff.attributes:
            built = built_branches(model.get_submodule(attribute).spec())[diff.branch - 1]
            assert branch_matches(diff.released, built), (diff.what, attribute, built)
            assert not branch_matches(diff.paper, built), (diff.what, attribute, built)
    elif diff.kind == "layers":
        built = tuple(token for attribute in diff.attributes for token in _layer_tokens(model, attribute))
        assert branch_matches(diff.released, built) and not branch_matches(diff.paper, built), (diff.what, built)
    else:
        head = model.get_submodule(diff.attributes[0])
        layers = tuple(type(m).__name__ for m in (head.bn, head.fc) if not isinstance(m, nn.Identity))
        assert layers == diff.released != diff.paper, (diff.what, layers)


@pytest.mark.parametrize("diff", rethinking.RELEASED_DIFFERENCES, ids=lambda d: d.where)
def test_each_listed_inception_v3_difference_is_in_the_released_model(nets, diff):
    _check_difference(nets["inception_v3"], diff)


@pytest.mark.parametrize("diff", going_deeper.RELEASED_DIFFERENCES, ids=lambda d: d.what[:20])
def test_each_listed_googlenet_difference_is_in_torchvisions_port(nets, diff):
    _check_difference(nets["googlenet_tv"], diff)
    if diff.kind == "branch":  # the paper-faithful googlenet() has the figure's branch
        for attribute in diff.attributes:
            built = built_branches(nets["googlenet"].get_submodule(attribute).spec())[diff.branch - 1]
            assert branch_matches(diff.paper, built)


def test_the_list_is_complete_for_the_modules_it_names(nets):
    """Apart from its listed branch, every released module named in the list is its figure."""
    figure_of = {"Fig. 5": rethinking.FIG5, "Fig. 6": rethinking.FIG6, "Fig. 10": rethinking.FIG10}
    for diff in (d for d in rethinking.RELEASED_DIFFERENCES if d.kind == "branch"):
        figure = figure_of[diff.where]
        for attribute in diff.attributes:
            differences = compare(figure, nets["inception_v3"].get_submodule(attribute).spec())
            assert [d.split(":")[0] for d in differences] == [f"branch {diff.branch}"], differences
    for name in ("Mixed_7b", "Mixed_7c"):  # module C is released as Fig. 7 draws it
        assert_is(rethinking.FIG7, getattr(nets["inception_v3"], name))
    # the paper preset has none of the module differences, and a batch-normalized auxiliary FC
    paper = nets["inception_v3_paper"]
    assert isinstance(paper.AuxLogits.bn, nn.BatchNorm1d)
    for diff in (d for d in rethinking.RELEASED_DIFFERENCES if d.where in ("Fig. 5", "Fig. 6")):
        for attribute in diff.attributes:
            assert not compare(figure_of[diff.where], paper.get_submodule(attribute).spec())


def test_the_released_module_a_keeps_torchvisions_keys_and_fig5_renames_one_branch():
    released, fig5 = v3.InceptionA(192, 32).state_dict(), v3.InceptionA(192, 32, five_by_five="3x3").state_dict()
    only_released = {k.split(".")[0] for k in set(released) - set(fig5)}
    only_fig5 = {k.split(".")[0] for k in set(fig5) - set(released)}
    assert (only_released, only_fig5) == ({"branch5x5_1", "branch5x5_2"}, {"branch3x3_1", "branch3x3_2"})
    assert fig5["branch3x3_2.conv.weight"].shape == torch.Size([64, 48, 3, 3])
    assert released["branch5x5_2.conv.weight"].shape == torch.Size([64, 48, 5, 5])
    with pytest.raises(ValueError, match="two_3x3' is gone.*'3x3'"):
        v3.InceptionA(192, 32, five_by_five="two_3x3")
    with pytest.raises(ValueError, match="double_first must be one of"):
        v3.InceptionC(768, 128, double_first="7x7")
    # the shared branches have the same layers under the same names: the figure module is a one-branch edit
    common = set(released) & set(fig5)
    assert all(released[k].shape == fig5[k].shape for k in common) and len(common) == len(fig5) - 2 * 6
    assert_is(rethinking.FIG5, v3.InceptionA(16, 4, conv_block=ConvReLU, five_by_five="3x3"))
