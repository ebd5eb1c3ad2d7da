"""Branch knock-out through the branch contract: the slice it zeroes, the hook's life, the study, the heat map."""

import itertools

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from inception_lab.exercises import lab as ex  # noqa: E402
from inception_lab.experiments import budget, knockout  # noqa: E402
from inception_lab.viz.experiment_charts import plot_knockout  # noqa: E402


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return budget.build_lab_model("mini_googlenet").eval()


@pytest.fixture(scope="module")
def images():
    return torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_branch_slices_tile_the_concatenation(model):
    module = model.inception3a
    slices = knockout.branch_slices(module)
    assert list(slices) == [b.name for b in module.branches]
    assert [s.stop - s.start for s in slices.values()] == list(module.branch_channels.values())
    assert slices["branch1"].start == 0 and list(slices.values())[-1].stop == module.out_channels
    assert all(a.stop == b.start for a, b in itertools.pairwise(slices.values()))


def test_knocked_out_zeroes_exactly_one_branch_and_cleans_up(model, images):
    from inception_lab.experiments.features import capture_features

    before = capture_features(model, images, ["inception4a"])["inception4a"]
    cut = knockout.branch_slices(model.inception4a)["branch2"]
    with knockout.knocked_out(model, "inception4a", "branch2"):
        during = capture_features(model, images, ["inception4a"])["inception4a"]
    assert torch.all(during[:, cut] == 0) and before[:, cut].abs().sum() > 0
    keep = torch.ones(before.shape[1], dtype=torch.bool)
    keep[cut] = False
    torch.testing.assert_close(during[:, keep], before[:, keep])
    torch.testing.assert_close(capture_features(model, images, ["inception4a"])["inception4a"], before)
    with pytest.raises(RuntimeError), knockout.knocked_out(model, "inception4a", ["branch1", "branch4"]):
        raise RuntimeError("boom")
    assert not model.inception4a._forward_hooks  # removed after the exception too


def test_bad_names_say_what_is_allowed(model, images):
    with pytest.raises(ValueError, match="its branches are"):
        with knockout.knocked_out(model, "inception3a", "branch9"):
            pass
    with pytest.raises(ValueError, match="not a multi-branch"):
        with knockout.knocked_out(model, "conv1", "branch1"):
            pass
    loader = [(images, torch.zeros(6, dtype=torch.long))]
    with pytest.raises(ValueError, match="not a multi-branch"):
        knockout.knockout_study(model, loader, modules=["fc"])


def test_inception_modules_in_forward_order_for_every_family_member():
    names = {name: knockout.inception_modules(budget.build_lab_model(name)) for name in budget.available_presets()}
    assert names["mini_googlenet"] == ["inception3a", "inception3b", "inception4a", "inception4b", "inception4c",
                                       "inception4d", "inception4e", "inception5a", "inception5b"]
    assert len(names["mini_bn_inception"]) == 10
    if "mini_inception_v3" in names:
        assert names["mini_inception_v3"][0] == "Mixed_5b" and names["mini_inception_v3"][-1] == "Mixed_7c"


@pytest.mark.parametrize("name", budget.available_presets())
def test_replay_gives_the_logits_of_a_full_forward_pass(name, images):
    torch.manual_seed(0)
    net = budget.build_lab_model(name).eval()
    modules = knockout.inception_modules(net)
    replay = knockout._Replay(net, [images], modules)
    assert replay.ok
    for module in (modules[0], modules[len(modules) // 2]):
        branch = next(iter(net.get_submodule(module).branch_channels))
        with knockout.knocked_out(net, module, branch), torch.no_grad():
            torch.testing.assert_close(replay.logits(module, 0), net(images), atol=1e-5, rtol=1e-4)


def test_study_agrees_with_knocking_out_by_hand(model, images):
    with torch.no_grad():
        targets = model(images).argmax(1)  # the clean prediction is right by construction: baseline 1.0
    loader = [(images[:3], targets[:3]), (images[3:], targets[3:])]
    result = knockout.knockout_study(model, loader, modules=["inception3a", "inception5b"], name="toy")
    assert result.baseline == 1.0 and result.examples == 6 and result.modules == ("inception3a", "inception5b")
    for module in result.modules:
        for branch in result.branches[module]:
            with knockout.knocked_out(model, module, branch), torch.no_grad():
                by_hand = (model(images).argmax(1) == targets).float().mean().item()
            assert result.accuracy[module][branch] == pytest.approx(by_hand)
            assert 0 <= result.active[module][branch] <= 1
    assert result.labels["inception3a"]["branch2"] == model.inception3a.branch_labels["branch2"]
    assert not model.training  # mode restored (it was eval)


@pytest.fixture()
def constant_branch_model():
    """The mini GoogLeNet with inception4a's 1x1 branch made constant: weights 0, bias 0.5 -> ReLU(0.5) = 0.5."""
    torch.manual_seed(0)
    net = budget.build_lab_model("mini_googlenet").eval()
    with torch.no_grad():
        net.inception4a.branch1.conv.weight.zero_()
        net.inception4a.branch1.conv.bias.fill_(0.5)
    return net


def test_mean_ablation_of_a_constant_branch_changes_nothing_and_zero_ablation_does(constant_branch_model, images):
    net = constant_branch_model
    with torch.no_grad():
        clean = net(images)
    means = knockout.branch_means(net, "inception4a", [images[:2], images[2:]])
    assert set(means) == set(net.inception4a.branch_channels)
    torch.testing.assert_close(means["branch1"], torch.full_like(means["branch1"], 0.5))
    with knockout.knocked_out(net, "inception4a", "branch1", values=means), torch.no_grad():
        torch.testing.assert_close(net(images), clean)  # the branch carried no information: nothing lost
    with knockout.knocked_out(net, "inception4a", "branch1"), torch.no_grad():
        assert (net(images) - clean).abs().max() > 1e-3  # zero is not what the next layer saw: the output moves
    # a branch that does vary is changed by mean-ablation too
    with knockout.knocked_out(net, "inception4a", "branch2", values=means), torch.no_grad():
        assert (net(images) - clean).abs().max() > 1e-3


def test_mean_ablation_puts_the_reference_mean_in_the_branch_slice(model, images):
    from inception_lab.experiments.features import capture_branches, capture_features

    means = knockout.branch_means(model, "inception3b", [images])
    by_hand = capture_branches(model, images, "inception3b")["branch3"].mean(0)
    torch.testing.assert_close(means["branch3"], by_hand)
    cut = knockout.branch_slices(model.inception3b)["branch3"]
    with knockout.knocked_out(model, "inception3b", "branch3", values=means):
        out = capture_features(model, images, ["inception3b"])["inception3b"]
    torch.testing.assert_close(out[:, cut], by_hand.expand(len(images), -1, -1, -1))
    with pytest.raises(ValueError, match="every knocked-out branch"):
        with knockout.knocked_out(model, "inception3b", "branch1", values={"branch3": by_hand}):
            pass


def test_mean_ablation_study(constant_branch_model, images):
    net = constant_branch_model
    with torch.no_grad():
        targets = net(images).argmax(1)
    loader = [(images, targets)]
    reference = [(torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(5)), targets[:1].repeat(8))]
    mean = knockout.knockout_study(net, loader, modules=["inception4a"], ablation="mean", reference=reference)
    zero = knockout.knockout_study(net, loader, modules=["inception4a"])
    assert mean.ablation == "mean" and zero.ablation == "zero"
    assert mean.drop("inception4a", "branch1") == 0.0  # constant: any reference batch has the same mean
    for branch in mean.branches["inception4a"]:
        means = knockout.branch_means(net, "inception4a", [reference[0][0]])
        with knockout.knocked_out(net, "inception4a", branch, values=means), torch.no_grad():
            by_hand = (net(images).argmax(1) == targets).float().mean().item()
        assert mean.accuracy["inception4a"][branch] == pytest.approx(by_hand)
    assert knockout.KnockoutResult.from_dict(mean.to_dict()) == mean
    with pytest.raises(ValueError, match="ablation"):
        knockout.knockout_study(net, loader, ablation="random")


def _result():
    return knockout.KnockoutResult(
        model="toy", baseline=0.9, modules=("m1", "m2"), branches={"m1": ("a", "b", "c"), "m2": ("a", "b")},
        labels={"m1": {"a": "1x1", "b": "3x3", "c": "pool"}, "m2": {"a": "1x1", "b": "3x3"}},
        accuracy={"m1": {"a": 0.5, "b": 0.88, "c": 0.91}, "m2": {"a": 0.7, "b": 0.89}},
        active={"m1": {"a": 0.1, "b": 0.2, "c": 0.9}, "m2": {"a": 0.3, "b": 0.4}}, examples=100)


def test_result_matrix_ranking_table_and_round_trip():
    result = _result()
    assert result.max_branches == 3
    matrix = result.matrix()
    assert matrix[1][2] is None and matrix[0][0] == pytest.approx(0.4)
    assert [c[:2] for c in result.ranked()] == [("m1", "a"), ("m2", "a"), ("m1", "b"), ("m2", "b"), ("m1", "c")]
    assert result.drop("m1", "c") == pytest.approx(-0.01) and result.module_drop("m2") == pytest.approx(0.2)
    assert result.table().splitlines()[1].split() == ["m1", "40.0", "2.0", "-1.0"]
    assert knockout.KnockoutResult.from_dict(result.to_dict()) == result


def test_plot_knockout_draws_a_cell_per_branch():
    ax = plot_knockout(_result())
    texts = [t.get_text() for t in ax.texts]
    assert "40.0" in texts and "pool" in texts and len(texts) == 2 * 5
    assert [t.get_text() for t in ax.get_yticklabels()] == ["m1", "m2"]


def test_most_important_branch_exercise():
    result = _result()
    assert ex.most_important_branch(("m1", "a"), result).correct
    assert "smallest" in str(ex.most_important_branch(("m1", "c"), result))
    assert "Right module" in str(ex.most_important_branch(("m1", "b"), result))
    assert "darkest cell" in str(ex.most_important_branch(("m2", "b"), result))
    assert "not a cell" in str(ex.most_important_branch(("m3", "a"), result))
    assert "pair of names" in str(ex.most_important_branch("m1.a", result))
