"""The library's layout and contracts: the wheel, file sizes, the torch-free formula layer, the branch contract,
the shape walk (shapes and receptive fields) and the diagrams drawn from the code."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import matplotlib.pyplot as plt
import pytest
import tomllib
import torch
from torch import nn

from inception_lab import shapes
from inception_lab.cost import inception as inception_cost
from inception_lab.models import PRESETS
from inception_lab.models import bn_inception as bi
from inception_lab.models import googlenet as gn
from inception_lab.nn import shape_walk
from inception_lab.nn.branches import MultiBranch, Split
from inception_lab.nn.layers import ConvBNReLU, ConvReLU, conv_bn_relu_tv
from inception_lab.viz import diagrams

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "inception_lab"
#: The formula layer: pure Python, importable (and used by the explorers) without torch.
PURE_MODULES = ["inception_lab.checks", "inception_lab.shapes", "inception_lab.cost", "inception_lab.papers.rethinking",
                "inception_lab.cost.factorization", "inception_lab.cost.view", "inception_lab.cost.explorers",
                "inception_lab.cost.inception", "inception_lab.papers.going_deeper",
                "inception_lab.papers.batch_normalization", "inception_lab.papers.figures",
                "inception_lab.papers.training", "inception_lab.palette"]


# Full-size networks built once for this file: the tests below only read them (shapes, labels, diagrams).
@pytest.fixture(scope="module")
def googlenet_model():
    return gn.googlenet(aux_logits=False, init_weights="pytorch").eval()


@pytest.fixture(scope="module")
def bn_inception_model():
    return bi.bn_inception(init_weights="pytorch").eval()


# ---------------------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------------------
def test_the_wheel_holds_every_subpackage_and_the_shipped_weights(tmp_path):
    source = tmp_path / "src"  # a copy, so the build leaves no build/ folder in the repository
    shutil.copytree(PACKAGE, source / "inception_lab", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    wheel = next(tmp_path.glob("inception_lab-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = sorted(p.parent.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("__init__.py"))
    assert len(packages) >= 6  # inception_lab, cost, models, papers, widgets, exercises
    for package in packages:
        assert f"{package}/__init__.py" in names, package
    for source in PACKAGE.rglob("*.py"):
        assert source.relative_to(ROOT).as_posix() in names, source
    assert "inception_lab/weights/mini_googlenet.pt" in names
    assert "inception_lab/weights/mini_googlenet.json" in names


#: The style guide's size caps: a network file is ~150-350 lines (like torchvision's), any other file at most 400.
SIZE_CAP = {"inception_lab/models/": 350, "": 400}
#: Files allowed over their cap for now, and why; remove an entry when its file is split (the test says so).
OVER_CAP = {
    "inception_lab/models/googlenet.py": "the naive module, the module, the aux head, the network and three presets "
                                         "(torchvision's googlenet.py: ~340 lines without the paper-faithful options)",
    "inception_lab/models/inception_v3.py": "modules A-E, the aux head, the network and three presets "
                                            "(torchvision's inception.py: ~480 lines)",
    "inception_lab/data.py": "the synthetic shapes renderer beside CIFAR-10 and the loaders: split the renderer out",
    "inception_lab/experiments/runner.py": "the lab runner with its results table and timing of steps",
    "inception_lab/experiments/layer_time.py": "hooks that time every layer in place, its kinds and their report",
}


def test_no_library_file_is_a_grab_bag_or_over_its_size_cap():
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert not any(name.endswith(("utils.py", "helpers.py", "misc.py")) for name in sizes)
    cap = {name: next(c for prefix, c in SIZE_CAP.items() if name.startswith(prefix)) for name in sizes}
    over = {name: n for name, n in sizes.items() if n > cap[name]}
    assert set(over) <= set(OVER_CAP), f"over the style guide's cap (split the file): {over}"
    stale = {name for name in OVER_CAP if name not in over}
    assert not stale, f"within the cap (or gone) now: remove from OVER_CAP: {stale}"


# ---------------------------------------------------------------------------------------------------------
# The import contracts (pyproject.toml, [tool.importlinter]; `make lint` runs them on the tree)
# ---------------------------------------------------------------------------------------------------------
def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _lint_imports(tree: pathlib.Path) -> subprocess.CompletedProcess:
    lint = shutil.which("lint-imports", path=str(pathlib.Path(sys.executable).parent)) or "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "300"}  # wide: one violation per line
    return subprocess.run([lint, "--no-cache", "--no-logo", str(tree / "pyproject.toml")], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_import_contracts_catch_an_upward_import_a_torch_import_and_a_cycle(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "inception_lab", ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    before = _lint_imports(tmp_path)
    assert before.returncode in (0, 1) and "Contracts:" in before.stdout, before.stdout + before.stderr
    injected = {  # file -> a line that breaks one contract (lazy imports count too)
        "nn/folding.py": "def _upward():\n    from inception_lab.models import googlenet  # noqa: F401\n",
        "shapes.py": "def _torch():\n    import torch  # noqa: F401\n",
        "nn/batchnorm.py": "def _cycle():\n    from inception_lab.nn import folding  # noqa: F401\n",
    }
    for name, code in injected.items():
        with open(tmp_path / "inception_lab" / name, "a") as file:
            file.write("\n\n" + code)
    after = _lint_imports(tmp_path)
    assert after.returncode == 1
    for message in ("inception_lab.nn is not allowed to import inception_lab.models",  # layers
                    "inception_lab.shapes is not allowed to import torch",  # the formula layer stays torch-free
                    "No cycles are allowed in inception_lab.nn."):  # acyclic siblings
        assert message in after.stdout and message not in before.stdout, message


def test_the_torch_free_contract_covers_every_module_below_the_runtime():
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    below = [name.strip(" ()") for layer in layers[layers.index("runtime") + 1:] for name in layer.split("|")]
    present = [f"inception_lab.{name}" for name in below
               if (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()]
    forbidden = next(c for c in _contracts() if c["type"] == "forbidden")
    assert len(present) >= 3 and set(present) <= set(forbidden["source_modules"]), \
        f"add {set(present) - set(forbidden['source_modules'])} to the forbidden contract's source_modules"


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_formula_layer_imports_without_torch(module):
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'torch' or name.startswith('torch.'):\n"
            "            raise ImportError('torch is blocked in this test')\n"
            "sys.meta_path.insert(0, Block())\n"
            f"import {module}\n"
            "assert 'torch' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_preset_builds_and_walks():
    for name, builder in PRESETS.items():
        model = builder()
        assert shape_walk.min_input_size(model) >= 1, name
        assert list(shape_walk.stage_shapes(model, 224, 224))[-1] == "avgpool", name


# ---------------------------------------------------------------------------------------------------------
# The branch contract
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("atom, bias, batchnorm", [(ConvReLU, True, False), (ConvBNReLU, False, True),
                                                   (conv_bn_relu_tv, False, True)])
@pytest.mark.parametrize("k", [5, 3])
def test_googlenet_modules_describe_themselves_with_the_formula_layers_specs(atom, bias, batchnorm, k):
    module = gn.Inception(192, 64, 96, 128, 16, 32, 32, conv_block=atom, branch3_kernel_size=k)
    assert module.spec() == inception_cost.reduced_spec(64, 96, 128, 16, 32, 32, bias=bias, batchnorm=batchnorm,
                                                        branch3_kernel_size=k)
    naive = gn.NaiveInception(192, 64, 128, 32, conv_block=atom)
    assert naive.spec() == inception_cost.naive_spec(192, 64, 128, 32, bias=bias, batchnorm=batchnorm)


def test_branch_labels_and_channels_come_from_the_layers(bn_inception_model):
    module = gn.Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel_size=3)  # torchvision's "5x5" is a 3x3
    assert module.branch_labels == {"branch1": "1x1", "branch2": "1x1 -> 3x3", "branch3": "1x1 -> 3x3",
                                    "branch4": "3x3 max-pool -> 1x1"}
    assert module.branch_channels == {"branch1": 64, "branch2": 128, "branch3": 32, "branch4": 32}
    stride2 = bn_inception_model.inception4e
    assert stride2.branch_labels["branch4"] == "3x3/2 max-pool" and stride2.branch_channels["branch4"] == 608


class _SplitModule(MultiBranch):
    """Flat attribute names and a split-and-concatenate branch, as in Inception-v3's module E."""

    def __init__(self) -> None:
        super().__init__(8)
        self.add_branch("branch1x1", ("branch1x1", ConvReLU(8, 4, 1)))
        self.add_branch("branch3x3", ("branch3x3_1", ConvReLU(8, 6, 1)),
                        Split(("branch3x3_2a", ConvReLU(6, 5, (1, 3), padding=(0, 1))),
                              ("branch3x3_2b", ConvReLU(6, 5, (3, 1), padding=(1, 0)))))
        self.add_branch("branch_pool", ("avgpool", nn.AvgPool2d(3, 1, 1)), ("branch_pool", ConvReLU(8, 2, 1)),
                        label="avg pool + projection")


def test_the_contract_serves_flat_names_and_split_branches():
    module = _SplitModule().eval()
    assert list(module.state_dict())[:4] == ["branch1x1.conv.weight", "branch1x1.conv.bias",
                                             "branch3x3_1.conv.weight", "branch3x3_1.conv.bias"]
    assert module.branch_channels == {"branch1x1": 4, "branch3x3": 10, "branch_pool": 2}
    assert module.branch_labels["branch3x3"] == "1x1 -> [1x3 | 3x1]"
    assert module.branch_labels["branch_pool"] == "avg pool + projection"
    x = torch.randn(2, 8, 7, 7)
    outputs = module.branch_outputs(x)
    assert outputs["branch3x3"].shape == (2, 10, 7, 7)
    torch.testing.assert_close(module(x), torch.cat(list(outputs.values()), 1))
    with module.recording_branches() as recorded:
        module(x)
    assert set(recorded) == {"branch1x1", "branch3x3", "branch_pool"} and module._recorded is None
    fig = diagrams.draw_module(module, (8, 7, 7))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "1x3 conv\n5" in texts and "3x1 conv\n5" in texts and "filter concatenation: 16 x 7 x 7" in texts
    plt.close(fig)


def test_contract_errors():
    module = MultiBranch(4)
    module.add_branch("a", ("a", nn.Identity()))
    with pytest.raises(ValueError, match="already has a branch named 'a'"):
        module.add_branch("a", ("b", nn.Identity()))
    with pytest.raises(ValueError, match="must be an nn.Module"):
        module.add_branch("c", ("c", 3))
    with pytest.raises(ValueError, match="expects input of shape \\(N, 4, H, W\\)"):
        module(torch.zeros(1, 3, 4, 4))


# ---------------------------------------------------------------------------------------------------------
# The shape walk
# ---------------------------------------------------------------------------------------------------------
def test_stage_shapes_agree_with_a_forward_pass(googlenet_model):
    model = googlenet_model
    expected = shape_walk.stage_shapes(model, 96, 80)
    x = torch.zeros(1, 3, 96, 80)
    with torch.no_grad():
        for name, stage in model.main_path():
            x = stage(x)
            assert tuple(x.shape[1:]) == expected[name].chw, name


def test_receptive_fields_of_stacks():
    start = shapes.start_shape(1, 64, 64)
    two_3x3 = shapes.walk([shapes.conv(1, 3), shapes.conv(1, 3)], start)[-1].field
    assert two_3x3 == shapes.walk([shapes.conv(1, 5)], start)[-1].field  # the same 5x5 window
    asym = shapes.walk([shapes.conv(1, (1, 7)), shapes.conv(1, (7, 1))], start)[-1].field
    assert asym.size == (7, 7) and asym.jump == (1, 1)
    strided = shapes.walk([shapes.conv(1, 3, 2, 0), shapes.pool("max", 3, 2)], start)[-1].field
    assert strided.size == (7, 7) and strided.jump == (4, 4) and strided.start == (3.0, 3.0)
    branches = shapes.Parallel((shapes.BranchSpec("a", (shapes.conv(1, 1),)),
                                shapes.BranchSpec("b", (shapes.conv(1, 5),))))
    assert shapes.apply(branches, start).field.size == (5, 5)  # a concatenation sees the union


def test_too_small_inputs_name_the_stage(googlenet_model):
    model = googlenet_model
    with pytest.raises(ValueError, match=r"a 20x20 input is too small.*smallest input this network accepts is 31x31"):
        model.stage_shapes(20, 20)
    with pytest.raises(ValueError, match="too small"):
        model(torch.zeros(1, 3, 20, 20))


def test_width_scaling_is_one_rule():
    assert [shapes.scale_width(c, 8) for c in (0, 1, 4, 12, 20, 64)] == [0, 1, 1, 2, 3, 8]  # half up, 0 stays 0
    with pytest.raises(ValueError, match="width_divisor must be a positive integer"):
        shapes.scale_width(64, 0)


# ---------------------------------------------------------------------------------------------------------
# Diagrams
# ---------------------------------------------------------------------------------------------------------
def test_module_diagram_shows_every_layer_and_the_concatenation():
    module = gn.Inception(192, 64, 96, 128, 16, 32, 32)
    fig = diagrams.draw_module(module, (192, 28, 28))
    texts = [t.get_text() for t in fig.axes[0].texts]
    for label in ("1x1 conv, 64", "1x1 conv, 96", "3x3 conv, 128", "5x5 conv, 32", "3x3 max-pool", "1x1 conv, 32",
                  "input 192 x 28 x 28", "filter concatenation: 256 x 28 x 28", "128 ch"):
        assert label in texts, label
    alt = diagrams.describe_module(module, (192, 28, 28), "inception (3a)")
    assert "4 parallel branches" in alt and "5x5 conv, 32" in alt and "256 x 28 x 28" in alt
    plt.close(fig)


def test_network_diagram_lists_the_stages_with_shapes(bn_inception_model):
    model = bn_inception_model
    rows = diagrams.network_stages(model, 224, 224)
    assert rows[0][0] == "conv1" and rows[-1][0] == "avgpool"
    assert {name: shape.chw for name, _, shape, _ in rows}["inception4e"] == (1056, 7, 7)
    fig = diagrams.draw_network(model, 224, 224)
    assert len(fig.axes[0].patches) == len(rows)
    assert "inception3c: 3 branches (576 x 14 x 14)" in diagrams.describe_network(model, 224, 224)
    plt.close(fig)
