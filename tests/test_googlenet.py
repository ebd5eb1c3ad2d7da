"""GoogLeNet [GoogLeNet, Table 1]: exact counts, torchvision parity, Table 1 reproduced, outputs and errors.

CPU only, no network, seeded. 224x224 forward passes are the expensive part; each config runs at most twice.
"""

from __future__ import annotations

import copy
import sys
import urllib.error

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from inception_lab import pretrained
from inception_lab.cost import Cost, count, separable_conv_cost
from inception_lab.models import googlenet as gn
from inception_lab.models.googlenet import Inception
from inception_lab.nn.losses import AuxOutputs, inception_loss
from inception_lab.papers import going_deeper as paper

BUILDERS = {"googlenet": gn.googlenet, "googlenet_tv": gn.googlenet_tv}

# (preset, aux_logits) -> (params, MACs at 1x3x224x224 in eval mode). Anchors:
# googlenet_tv without aux: torchvision metadata (GoogLeNet_Weights.IMAGENET1K_V1: num_params 6,624,904, "1.498"
#   GFLOPS, which are these MACs; test_torchvision_metadata_anchors_the_tv_counts checks both when installed);
# googlenet_tv with aux: torchvision's GoogLeNet(aux_logits=True) counted (test_torchvision_... below loads it);
# googlenet (paper-faithful): our count, regression only -- the paper prints no total (Table 1's cells are rounded
#   and do not all follow from its filter counts); googlenet_cost() re-derives it from Table 1's rows.
EXACT_COUNTS = {
    ("googlenet_tv", False): (6_624_904, 1_498_376_192),
    ("googlenet_tv", True): (13_004_888, 1_498_376_192),
    ("googlenet", False): (6_998_552, 1_582_671_872),
    ("googlenet", True): (13_378_280, 1_582_671_872),
}

# Lines of the paper (Table 1) whose printed params/ops do not follow from its own filter counts: our count,
# regression only (each disagreement is explained by a note that test_table1_comparison_... checks).
DISAGREEING_LINES = {"convolution 7x7/2", "inception (4a)", "inception (4c)", "inception (4d)", "inception (4e)",
                     "inception (5a)", "inception (5b)"}


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def paper_report():
    """count() of the paper-faithful model without aux heads at 224x224 (one forward pass, shared)."""
    torch.manual_seed(0)
    return count(gn.googlenet(aux_logits=False).eval(), (1, 3, 224, 224))


@pytest.fixture(scope="module")
def paper_forward():
    """One FlopCounterMode forward of the paper model at 224x224: (MACs, output shape of every stage)."""
    torch.manual_seed(0)
    model = gn.googlenet(aux_logits=False, init_weights="pytorch").eval()
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
             for name, module in model.named_children()]
    macs = _macs_flop_counter(model, (1, 3, 224, 224))
    for h in hooks:
        h.remove()
    return macs, shapes, model.stage_shapes(224, 224)


def _num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _macs_flop_counter(model: nn.Module, shape: tuple[int, ...]) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(shape))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


# ---------------------------------------------------------------------------------------------------------
# Exact counts
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset,aux", list(EXACT_COUNTS))
def test_exact_parameter_counts(preset: str, aux: bool) -> None:
    model = BUILDERS[preset](aux_logits=aux, init_weights="pytorch")  # the init scheme does not matter here
    assert _num_params(model) == EXACT_COUNTS[preset, aux][0]


@pytest.mark.parametrize("preset", ["googlenet_tv", "googlenet"])
def test_exact_macs_cost_model_and_flop_counter(preset: str, paper_report, paper_forward) -> None:
    params, macs = EXACT_COUNTS[preset, False]
    if preset == "googlenet":
        report, flop_counter_macs = paper_report, paper_forward[0]
    else:
        model = BUILDERS[preset](aux_logits=False, init_weights="pytorch").eval()
        report, flop_counter_macs = count(model, (1, 3, 224, 224)), _macs_flop_counter(model, (1, 3, 224, 224))
    assert report.params == params
    assert report.macs == macs
    assert flop_counter_macs == macs


def test_aux_heads_add_paper_parameters() -> None:
    # The paper (§5) heads with biases, counted from its text: 1x1 conv (C -> 128), FC 2048 -> 1024, FC 1024 -> 1000.
    expected = [c * 128 + 128 + 128 * 4 * 4 * 1024 + 1024 + 1024 * 1000 + 1000 for c in (512, 528)]
    assert expected == [3_188_840, 3_190_888]  # our count, regression only
    model = gn.googlenet(init_weights="pytorch")
    assert [_num_params(model.aux1), _num_params(model.aux2)] == expected


def test_separable_first_conv_has_table1_cost() -> None:
    # Table 1 prints 2.7K / 34M for the first line: a 7x7 depthwise-separable conv with depth multiplier 8.
    sep = separable_conv_cost()
    assert sep == Cost(params=2_712, macs=34_019_328)
    model = gn.googlenet(aux_logits=False, first_conv="separable", init_weights="pytorch").eval()
    report = count(model, (1, 3, 224, 224))
    conv1 = report.group(1)["conv1"]
    assert conv1.params == sep.params + 64  # + the pointwise biases
    assert conv1.macs == sep.macs
    assert report.macs == 1_498_677_248  # total with the separable first conv: our count, regression only


# ---------------------------------------------------------------------------------------------------------
# Table 1 as data, reproduced and explained
# ---------------------------------------------------------------------------------------------------------
def test_table1_data_is_consistent() -> None:
    inception_lines = [line for line in paper.TABLE1 if line.type.startswith("inception")]
    assert [line.type for line in inception_lines] == [f"inception ({r.name})" for r in paper.TABLE1_ROWS]
    for line, row in zip(inception_lines, paper.TABLE1_ROWS, strict=True):
        assert line.output[2] == row.out_channels, line.type  # the concatenation: 1x1 + 3x3 + 5x5 + pool proj
    model = gn.googlenet(init_weights="pytorch")
    for line in paper.TABLE1:
        for name in line.modules:
            assert isinstance(getattr(model, name), nn.Module), name
    assert paper.TABLE1_ROWS[0].out_channels == 64 + 128 + 32 + 32 == 256  # the chapter's worked example


def test_model_reproduces_table1_output_sizes(paper_forward) -> None:
    _, outputs, planned = paper_forward
    assert outputs["fc"] == (1, 1000)
    for line in paper.TABLE1:
        if not line.modules:
            continue
        name = line.modules[-1]
        h, w, c = line.output
        if name in ("dropout", "fc"):  # applied to the flattened (N, C) vector
            assert outputs[name] == (1, h * w * c)
        else:
            assert outputs[name] == (1, c, h, w), line.label
            assert planned[name] == (c, h, w)


def test_table1_comparison_flags_exactly_the_disagreeing_lines(paper_report) -> None:
    rows = paper.table1_comparison()
    assert [r.line for r in rows] == ["convolution 7x7/2", "convolution 3x3/1"] + [
        f"inception ({r.name})" for r in paper.TABLE1_ROWS] + ["linear"]
    assert {r.line for r in rows if not r.matches} == DISAGREEING_LINES
    for r in rows:
        assert bool(r.note) == (r.line in DISAGREEING_LINES), r.line
        if r.matches:  # within one unit of the printed last digit (K = 1024, M = 10**6)
            assert abs(r.ops_m - float(r.printed_ops.rstrip("M"))) <= 1
            assert min(abs(r.params_k - float(r.printed_params.rstrip("K"))),
                       abs((r.weights + r.biases) / 1024 - float(r.printed_params.rstrip("K")))) <= 1
    by_line = {r.line: r for r in rows}
    assert by_line["convolution 3x3/1"].weights == 112 * 1024  # K = 1024 makes this line exact
    assert "34.02M" in by_line["convolution 7x7/2"].note and "2,712" in by_line["convolution 7x7/2"].note
    assert "does not follow" in by_line["inception (5a)"].note
    # The comparison's pure formulas agree with counting the model built from the same rows.
    groups = paper_report.group(1)
    for line in paper.TABLE1:
        if line.params:
            r = by_line[line.label]
            assert sum(groups[m].macs for m in line.modules) == r.macs, line.label
            assert sum(groups[m].params for m in line.modules) == r.weights + r.biases, line.label
    assert "NO" in paper.format_table1_comparison(rows)


# ---------------------------------------------------------------------------------------------------------
# torchvision parity
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tv_models() -> dict[bool, nn.Module]:
    """Randomly initialised torchvision GoogLeNets, without and with aux heads (tests deep-copy before mutating)."""
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    out = {}
    for aux in (False, True):
        # init_weights=False (PyTorch's default init) only because torchvision's truncated normal costs ~1 s.
        tv = models.googlenet(weights=None, aux_logits=aux, init_weights=False, transform_input=True)
        # Give BatchNorm realistic running statistics (momentum 1: those of one random batch), so that the
        # eval outputs are O(1) and the comparison is not between two near-zero tensors.
        for m in tv.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 1.0
        with torch.no_grad():
            tv.train()(torch.randn(4, 3, 64, 64))
        for m in tv.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 0.1
        out[aux] = tv.eval()
    return out


@pytest.mark.parametrize("aux", [False, True])
def test_torchvision_state_dict_loads_strictly_and_outputs_match(aux: bool, tv_models) -> None:
    tv = tv_models[aux]
    ours = gn.googlenet_tv(aux_logits=aux, transform_input=True, init_weights="pytorch").eval()
    assert list(ours.state_dict()) == list(tv.state_dict())
    ours.load_state_dict(tv.state_dict(), strict=True)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        expected, got = tv(x), ours(x)
    assert isinstance(got, torch.Tensor)
    assert expected.std() > 1e-2
    torch.testing.assert_close(got, expected)


def test_torchvision_parity_in_train_mode_with_aux_heads(tv_models) -> None:
    tv = copy.deepcopy(tv_models[True])  # train mode updates the BN running statistics
    ours = gn.googlenet_tv(aux_logits=True, transform_input=True, init_weights="pytorch")
    ours.load_state_dict(tv.state_dict(), strict=True)
    tv.train(), ours.train()
    x = torch.randn(2, 3, 64, 64)
    torch.manual_seed(1)  # the dropout masks are drawn in the same order: aux1, aux2, main
    expected = tv(x)
    torch.manual_seed(1)
    got = ours(x)
    assert isinstance(got, AuxOutputs) and len(got.aux_logits) == 2
    torch.testing.assert_close(got.logits, expected.logits)
    # torchvision returns (logits, aux_logits2, aux_logits1); ours is (logits, (aux1, aux2)).
    torch.testing.assert_close(got.aux_logits[0], expected.aux_logits1)
    torch.testing.assert_close(got.aux_logits[1], expected.aux_logits2)


def test_torchvision_metadata_anchors_the_tv_counts(tv_models) -> None:
    models = pytest.importorskip("torchvision.models")
    meta = models.GoogLeNet_Weights.IMAGENET1K_V1.meta
    params, macs = EXACT_COUNTS["googlenet_tv", False]
    assert meta["num_params"] == params and float(meta["_ops"]) == round(macs / 1e9, 3)
    assert _num_params(tv_models[True]) == EXACT_COUNTS["googlenet_tv", True][0]


def test_min_input_size_matches_torchvision() -> None:
    models = pytest.importorskip("torchvision.models")
    ours = gn.googlenet_tv(aux_logits=False, init_weights="pytorch").eval()
    assert ours.min_input_size == models.GoogLeNet_Weights.IMAGENET1K_V1.meta["min_size"][0] == 15
    with torch.no_grad():
        assert ours(torch.zeros(1, 3, 15, 15)).shape == (1, 1000)
    with pytest.raises(ValueError, match="too small.*15x15"):
        ours(torch.zeros(1, 3, 14, 14))


def test_load_torchvision_weights_from_local_file(tmp_path, tv_models) -> None:
    tv = tv_models[True]
    path = tmp_path / "googlenet-1378be20.pth"
    torch.save(tv.state_dict(), path)
    ours = gn.googlenet_tv(aux_logits=False, init_weights="pytorch")  # the file's untrained aux heads are skipped
    assert pretrained.load_torchvision_weights(ours, path=path) is ours
    assert ours.transform_input  # as torchvision sets it with these weights
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), tv(x))
    with pytest.raises(ValueError, match="no weights file"):
        pretrained.load_torchvision_weights(ours, path=tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="googlenet_tv"):
        pretrained.load_torchvision_weights(gn.googlenet(aux_logits=False, init_weights="pytorch"), path=path)


def test_load_torchvision_weights_offline_says_what_to_do(monkeypatch) -> None:
    def offline(progress: bool):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(pretrained, "_download_torchvision_state_dict", offline)
    with pytest.raises(RuntimeError, match="Colab.*path=") as info:
        pretrained.load_torchvision_weights(gn.googlenet_tv(aux_logits=False, init_weights="pytorch"))
    assert pretrained.TORCHVISION_WEIGHTS_URL in str(info.value)


def test_load_torchvision_weights_without_torchvision(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torchvision.models", None)  # "import" now fails
    with pytest.raises(RuntimeError, match="torchvision is not installed.*path="):
        pretrained.load_torchvision_weights(gn.googlenet_tv(aux_logits=False, init_weights="pytorch"))


# ---------------------------------------------------------------------------------------------------------
# Outputs: eval vs train, AuxOutputs order, the loss
# ---------------------------------------------------------------------------------------------------------
def test_eval_returns_logits_train_returns_aux_outputs() -> None:
    model = gn.mini_googlenet(num_classes=10)
    x = torch.randn(4, 3, 32, 32)
    out = model.train()(x)
    assert isinstance(out, AuxOutputs)
    assert out.logits.shape == (4, 10) and [a.shape for a in out.aux_logits] == [(4, 10), (4, 10)]
    with torch.no_grad():
        assert isinstance(model.eval()(x), torch.Tensor)
    no_aux = gn.mini_googlenet(aux_logits=False).train()
    assert isinstance(no_aux.aux1, nn.Identity) and isinstance(no_aux.aux2, nn.Identity)
    assert isinstance(no_aux(x), torch.Tensor)


def test_aux_outputs_are_ordered_earliest_first() -> None:
    model = gn.mini_googlenet(dropout=0.0, dropout_aux=0.0).train()  # no BN, no dropout: deterministic
    seen: dict[str, torch.Tensor] = {}
    for name in ("inception4a", "inception4d"):
        getattr(model, name).register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, o.detach()))
    x = torch.randn(2, 3, 32, 32)
    out = model(x)
    with torch.no_grad():
        torch.testing.assert_close(out.aux_logits[0], model.aux1(seen["inception4a"]))
        torch.testing.assert_close(out.aux_logits[1], model.aux2(seen["inception4d"]))
        features = model.forward_features(x)
        torch.testing.assert_close(model.forward_head(features), out.logits)
        assert features.shape == (2, model.num_features, 2, 2)


def test_inception_loss_on_both_output_forms() -> None:
    model = gn.mini_googlenet()
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    out = model.train()(x)
    expected = F.cross_entropy(out.logits, y) + 0.3 * sum(F.cross_entropy(a, y) for a in out.aux_logits)
    loss = inception_loss(out, y)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert model.aux1.fc2.weight.grad is not None and model.conv1.conv.weight.grad is not None
    with torch.no_grad():
        logits = model.eval()(x)
    torch.testing.assert_close(inception_loss(logits, y), F.cross_entropy(logits, y))


# ---------------------------------------------------------------------------------------------------------
# The mini network and the shapes plan
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [32, 48, 64])
def test_mini_googlenet_shapes(size: int) -> None:
    model = gn.mini_googlenet().eval()
    assert type(model) is gn.GoogLeNet and isinstance(model.inception3a, Inception)
    assert [getattr(model, f"inception{r.name}").out_channels for r in paper.TABLE1_ROWS] == [
        r.scaled(8).out_channels for r in paper.TABLE1_ROWS]
    outputs: dict[str, tuple[int, ...]] = {}
    for name in model.stage_shapes(size, size):
        getattr(model, name).register_forward_hook(
            lambda m, i, o, name=name: outputs.__setitem__(name, tuple(o.shape[1:])))
    with torch.no_grad():
        assert model(torch.randn(2, 3, size, size)).shape == (2, 10)
    assert outputs == model.stage_shapes(size, size)
    assert outputs["inception3a"][1:] == (size // 4, size // 4)


def test_mini_googlenet_is_small() -> None:
    model = gn.mini_googlenet(aux_logits=False)
    assert _num_params(model) < 150_000
    assert count(model.eval(), (1, 3, 32, 32)).macs < 5_000_000


def test_ceil_mode_gives_table1_sizes() -> None:
    sizes = {k: v[1] for k, v in gn.googlenet(ceil_mode=False, init_weights="pytorch").stage_shapes(224, 224).items()}
    assert [sizes[k] for k in ("maxpool1", "maxpool2", "maxpool3", "maxpool4")] == [55, 27, 13, 6]
    sizes = {k: v[1] for k, v in gn.googlenet(init_weights="pytorch").stage_shapes(224, 224).items()}
    assert [sizes[k] for k in ("maxpool1", "maxpool2", "maxpool3", "maxpool4")] == [56, 28, 14, 7]


def test_paper_and_torchvision_presets_differ_only_where_documented() -> None:
    paper, tv = gn.googlenet(init_weights="pytorch"), gn.googlenet_tv(init_weights="pytorch")
    assert isinstance(paper.lrn1, nn.LocalResponseNorm) and isinstance(tv.lrn1, nn.Identity)
    assert paper.inception3a.branch3[1].conv.kernel_size == (5, 5)
    assert tv.inception3a.branch3[1].conv.kernel_size == (3, 3)
    assert (paper.maxpool4.kernel_size, tv.maxpool4.kernel_size) == (3, 2)
    assert (paper.dropout.p, tv.dropout.p) == (0.4, 0.2)
    assert isinstance(paper.aux1.pool, nn.AvgPool2d) and isinstance(tv.aux1.pool, nn.AdaptiveAvgPool2d)
    assert paper.conv1.conv.bias is not None and tv.conv1.conv.bias is None
    # LRN has no parameters: switching it off does not change the state_dict.
    assert list(gn.googlenet(lrn=False, init_weights="pytorch").state_dict()) == list(paper.state_dict())


# ---------------------------------------------------------------------------------------------------------
# Errors at the public boundary
# ---------------------------------------------------------------------------------------------------------
def test_bad_inputs_raise_value_error() -> None:
    model = gn.mini_googlenet().eval()
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 3, H, W\)"):
        model(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"expects input of shape"):
        model(torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="torch.Tensor"):
        model([[0.0]])
    with pytest.raises(ValueError, match=f"too small.*{model.min_input_size}x{model.min_input_size}"):
        model(torch.zeros(1, 3, model.min_input_size - 1, model.min_input_size - 1))
    model(torch.zeros(1, 3, model.min_input_size, model.min_input_size))


def test_paper_aux_head_needs_224_inputs_in_train_mode() -> None:
    model = gn.googlenet(num_classes=10, init_weights="pytorch").train()
    with pytest.raises(ValueError, match=r"AuxSpec\(adaptive=True\)"):
        model(torch.zeros(2, 3, 96, 96))


@pytest.mark.parametrize("options,match", [
    (dict(dropout=1.0), "dropout"),
    (dict(dropout_aux=-0.1), "dropout_aux"),
    (dict(first_conv="dilated"), "first_conv"),
    (dict(init_weights="xavier"), "init_weights"),
    (dict(num_classes=0), "num_classes"),
])
def test_bad_options_raise_value_error(options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gn.googlenet(**options)


def test_bad_architecture_data_raises_value_error() -> None:
    with pytest.raises(ValueError, match="needs a GoogLeNetConfig"):
        gn.GoogLeNet(dict(num_classes=10))
    with pytest.raises(ValueError, match="maxpool4_kernel_size"):
        gn.GoogLeNetConfig(maxpool4_kernel_size=4)
    with pytest.raises(ValueError, match="stem must be one of"):
        gn.GoogLeNetConfig(stem="tiny")
    with pytest.raises(ValueError, match="atom must be one of"):
        gn.GoogLeNetConfig(atom="gelu")
    with pytest.raises(ValueError, match="aux_head must be an AuxSpec"):
        gn.GoogLeNetConfig(aux_head=dict(grid=2))
    with pytest.raises(ValueError, match="ch5x5"):
        paper.InceptionRow("3a", 64, 96, 128, 16, 0, 32)
    with pytest.raises(ValueError, match="odd"):
        gn.StemSpec(conv1_kernel_size=4)


def test_stems_and_specs_read_the_papers_constants() -> None:
    assert (gn.StemSpec().conv1, gn.StemSpec().conv2, gn.StemSpec().conv3) == tuple(paper.STEM_WIDTHS.values())
    assert (gn.AuxSpec().conv, gn.AuxSpec().fc) == (paper.AUX_HEAD["conv"], paper.AUX_HEAD["fc"])
    assert tuple(gn.POOL_AFTER_ROW) == paper.POOLS_AFTER  # the pools sit where Table 1 prints them
    stages = list(gn.googlenet(init_weights="pytorch").stage_shapes(224, 224))
    for row, pool in gn.POOL_AFTER_ROW.items():
        assert stages[stages.index(f"inception{row}") + 1] == pool


def test_width_divisor_is_applied_everywhere() -> None:
    model = gn.mini_googlenet(width_divisor=4, aux_logits=True)
    assert model.conv1.conv.out_channels == 16 and model.conv3.conv.out_channels == 48  # 64 / 4, 192 / 4
    assert model.aux1.conv.conv.out_channels == 32 and model.aux1.fc1.out_features == 256  # 128 / 4, 1024 / 4
    assert model.inception5b.out_channels == 1024 // 4 == model.num_features


def test_init_schemes() -> None:
    caffe = gn.mini_googlenet(init_weights="caffe")
    conv_biases = [m.bias for m in caffe.modules() if isinstance(m, nn.Conv2d)]
    assert all(torch.all(b == 0.2) for b in conv_biases)  # BVLC Caffe replication: bias_filler 0.2
    kaiming = gn.mini_googlenet(init_weights="kaiming")
    assert all(torch.all(m.bias == 0) for m in kaiming.modules() if isinstance(m, nn.Conv2d))
    w = gn.googlenet_tv(aux_logits=False).inception5b.branch2[1].conv.weight
    assert abs(w.std().item() - 0.01) < 1e-3  # "tv_googlenet": torchvision's truncated normal, std 0.01
