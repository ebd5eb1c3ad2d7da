"""The family summary, depth conventions, the naming crosswalk (against our code and torchvision), calibration,
and torchvision's Inception-v3 weights from a local file."""

from __future__ import annotations

import urllib.error

import pytest
import torch

from inception_lab import pretrained
from inception_lab.experiments import calibration, family
from inception_lab.models import build_model
from inception_lab.models import inception_v2 as v2
from inception_lab.models import inception_v3 as v3
from inception_lab.papers import rethinking


@pytest.fixture(scope="module")
def rows():
    return {r.name: r for r in family.summary()}


def test_summary_counts_are_exact(rows):
    got = {name: (r.params, r.macs, r.receptive_field, r.final_grid, r.depth) for name, r in rows.items()}
    # Our count, regression only, except: v3's MACs are torchvision metadata ("5.713 GFLOPS"), v1's depth 22 is the
    # paper ([GoogLeNet, §5]); the receptive fields are the shape walk's (padding included).
    assert got == {
        "Inception v1 (GoogLeNet)": (6_998_552, 1_582_671_872, 715, 7, 22),
        "BN-Inception": (11_285_224, 2_032_600_064, 699, 7, 34),
        "Inception-v2, 7x7 stem": (25_935_016, 5_939_232_960, 1515, 8, 52),
        "Inception-v2": (25_954_248, 6_352_562_784, 1519, 8, 54),  # with the paper's Fig. 5 module A
        "Inception-v3": (23_834_568, 5_713_216_096, 1311, 8, 48),
    }
    assert rows["Inception-v3"].top1 == rethinking.STATED_TOP1_TOP5[0] and rows["Inception-v3"].top5 == 5.6
    # the paper (Rethinking, Table 3); Table 1's 3x3-stem layout has no row of its own before RMSProp and smoothing
    assert [r.table3_cost_bn for r in rows.values()] == [1.5, 2.0, 3.8, None, 4.8]
    assert rows["Inception-v2, 7x7 stem"].top1 == 23.4 and rows["Inception-v2"].top1 is None
    assert "6,998,552" in family.summary_table(list(rows.values()))
    markdown = family.summary_markdown(list(rows.values()))
    assert "| Inception-v2 | Table 1 layout at released widths (our filling) | 299 | 25,954,248 | 6.35 |" in markdown
    assert markdown.count("\n") == len(rows) + 1 and "| – | – | – |" in markdown


def test_part_costs_add_up_and_explain_the_v2_v3_gap():
    members = {m.name: family.build(m) for m in family.MEMBERS if m.preset.startswith("inception_v")}
    parts = {name: family.part_costs(model, 299) for name, model in members.items()}
    for name, model in members.items():
        assert sum(parts[name].values()) == family.cost_of(model, 299).macs
        stages = family.stage_costs(model, 299)
        assert sum(c.macs for c in stages.values()) + 2048 * 1000 == family.cost_of(model, 299).macs
    v2, v3 = parts["Inception-v2"], parts["Inception-v3"]
    assert v2.keys() == v3.keys()
    # the fifth 17x17 module is a c7 = 160 module: its MACs are exactly the gap of the 17x17 stage
    fifth = family.stage_costs(members["Inception-v2"], 299)["Mixed_6d"].macs
    assert v2["17x17 modules (B)"] - v3["17x17 modules (B)"] == fifth
    assert v2["35x35 modules (A)"] < v3["35x35 modules (A)"]  # Fig. 5's 3x3 is cheaper than the released 5x5
    assert v2["8x8 modules (C)"] == v3["8x8 modules (C)"] and v2["classifier"] == v3["classifier"]


def test_depth_reproduces_googlenet_and_shows_the_conventions_for_42():
    googlenet = build_model("googlenet", aux_logits=False, init_weights="pytorch")
    assert family.depth(googlenet) == 22 and family.depth(googlenet, pooling=True) == 27  # [GoogLeNet, §5]
    released = v3.inception_v3(aux_logits=False, init_weights="pytorch")
    table1 = v2.inception_v2(aux_logits=False, init_weights="pytorch")
    assert family.depth(released) == 48 and family.depth(table1) == 54
    assert family.depth(table1, pairs_as_one=True, classifier=False) == rethinking.DEPTH_LAYERS
    assert family.depth(released, pairs_as_one=True, pooling=True) == rethinking.DEPTH_LAYERS


def test_crosswalk_matches_our_code_and_torchvision():
    ours, table1 = v3.inception_v3(init_weights="pytorch"), v2.inception_v2(init_weights="pytorch")
    tv = pytest.importorskip("torchvision.models").inception_v3(weights=None, aux_logits=True, init_weights=False)
    network = family.CROSSWALK[0]  # the network itself: torchvision's Inception3 is our InceptionV3
    assert (type(tv).__name__, type(ours).__name__) == (network.torchvision_class, network.ours) == (
        "Inception3", "InceptionV3")
    for row in family.CROSSWALK:
        for attribute in row.attributes:
            assert type(getattr(tv, attribute)).__name__ == row.torchvision_class, attribute
            assert type(getattr(ours, attribute)).__name__ == row.ours, attribute
        for attribute in row.v2_attributes:
            module = getattr(table1, attribute)
            if row.torchvision_class.startswith("Inception"):
                assert type(module).__name__ == row.torchvision_class, attribute
    modules = [a for row in family.CROSSWALK for a in row.attributes if a.startswith("Mixed")]
    assert modules == [n for n, _ in tv.named_children() if n.startswith("Mixed")]  # every module, in order
    assert "| Inception v3, module B | Fig. 6 | `InceptionC` | `InceptionC` |" in family.crosswalk_table()
    assert family.crosswalk_table().startswith("| study note | paper |")


def test_smoothed_targets_and_confidence_report():
    t = calibration.smoothed_targets(torch.tensor([2, 0]), 4, 0.1)
    torch.testing.assert_close(t[0], torch.tensor([0.025, 0.025, 0.925, 0.025]))
    torch.testing.assert_close(t.sum(1), torch.ones(2))
    logits = torch.tensor([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0], [4.0, 0.0, 0.0]])
    report = calibration.confidence_report(logits, torch.tensor([0, 1, 2, 1]))
    conf = torch.tensor([4.0, 0.0, 0.0]).softmax(0)[0].item()
    assert report.accuracy == 0.75 and report.confidence == pytest.approx(conf)
    assert report.ece == pytest.approx(abs(0.75 - conf)) and report.logit_gap == pytest.approx(4.0)
    with pytest.raises(ValueError, match="epsilon must lie in"):
        calibration.smoothed_targets(torch.tensor([0]), 2, 1.5)
    with pytest.raises(ValueError, match="logits must be"):
        calibration.confidence_report(torch.zeros(3), torch.zeros(3))


def test_load_torchvision_inception_v3_weights_from_a_local_file(tmp_path):
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    tv = models.inception_v3(weights=None, aux_logits=True, init_weights=False).eval()
    path = tmp_path / "inception_v3_google-0cc3c7bd.pth"
    torch.save(tv.state_dict(), path)
    ours = v3.inception_v3(aux_logits=False, init_weights="pytorch")  # the file's aux head is skipped
    assert pretrained.load_torchvision_weights(ours, path=path) is ours and ours.transform_input
    tv.transform_input = True
    x = torch.randn(1, 3, 80, 80)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), tv(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="googlenet_tv.*inception_v3"):
        pretrained.load_torchvision_weights(v3.mini_inception_v3(), path=path)
    with pytest.raises(ValueError, match="no weights file.*inception_v3_google"):
        pretrained.load_torchvision_weights(ours, path=tmp_path / "missing.pth")


def test_load_torchvision_inception_v3_weights_offline_says_what_to_do(monkeypatch):
    def offline(progress, network="googlenet"):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(pretrained, "_download_torchvision_state_dict", offline)
    with pytest.raises(RuntimeError, match="inception_v3 weights.*Colab.*path=") as info:
        pretrained.load_torchvision_weights(v3.inception_v3(aux_logits=False, init_weights="pytorch"))
    assert pretrained.TORCHVISION_WEIGHTS["inception_v3"].url in str(info.value)
