"""The cost explorers' torch-free entry points (what the ipywidgets and the book's live explorers draw), the JSON
bridge the browser calls, the build extension that ships them with Pyodide, and a check that the page script holds
no copy of a formula. The browser itself: tests/test_live_explorers_browser.py."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import pathlib
import re
import subprocess
import sys
import tarfile

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from conftest import load_module  # noqa: E402

from inception_lab import cost  # noqa: E402
from inception_lab.cost import explorers, factorization, grid_reduction, inception  # noqa: E402
from inception_lab.cost.view import check_settings  # noqa: E402
from inception_lab.palette import CYCLE, OKABE_ITO  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "book" / "_live" / "live_explorers.js"
STYLE = ROOT / "book" / "_live" / "live_explorers.css"
ext = load_module("book/_ext/live_explorers.py")

# A grid of settings per explorer: the defaults, corners of the ranges and a few points in between.
CH1_GRID = [{}, dict(in_channels=384), dict(size=7, ch5x5red=8, pool_proj=64),
            dict(in_channels=16, size=13, ch1x1=8, ch3x3red=8, ch3x3=8, ch5x5red=8, ch5x5=8, pool_proj=8),
            dict(in_channels=512, size=14, ch1x1=256, ch3x3red=160, ch3x3=320, ch5x5red=32, ch5x5=128, pool_proj=128)]
CH4_GRID = [{}, dict(n=3), dict(n=5, mid_channels=96), dict(n=9, in_channels=64, out_channels=32, grid=9),
            dict(n=4, grid=1), dict(n=2, in_channels=8, out_channels=512, mid_channels=8, grid=64)]
CH5_GRID = [{}, dict(size=36, in_channels=64, out_channels=128, kernel=1, pool="avg", split=0.5),
            dict(size=17, in_channels=768, out_channels=1280, split=0.25), dict(size=8, split=0.0),
            dict(split=1.0, kernel=1), dict(size=72, in_channels=16, out_channels=32, pool="avg")]


def numbers(view):
    """(params, MACs) of every bar of a view, as the rows say."""
    return [(r["params"], r["macs"]) for r in view["rows"]]


# ---------------------------------------------------------------------------------------------------------
# Entry points: the same numbers as the ipywidgets explorer and as count() on the torch module
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", CH1_GRID)
def test_inception_module_view_matches_the_widget_and_count(settings):
    import torch  # noqa: F401

    from inception_lab.models import googlenet as gn
    from inception_lab.widgets.inception_module import InceptionExplorer

    view = inception.explorer_view(settings)
    v = view["settings"]
    explorer = InceptionExplorer()
    for name, value in settings.items():
        explorer.sliders[name].value = value
    assert explorer.view == view
    for row in view["table"]["rows"]:
        assert "".join(f"<td>{cell}</td>" for cell in row) in explorer.table.value
    naive = gn.NaiveInception(v["in_channels"], v["ch1x1"], v["ch3x3"], v["ch5x5"]).eval()
    reduced = gn.Inception(v["in_channels"], v["ch1x1"], v["ch3x3red"], v["ch3x3"], v["ch5x5red"], v["ch5x5"],
                           v["pool_proj"]).eval()
    shape = (1, v["in_channels"], v["size"], v["size"])
    counted = [cost.count(m, shape) for m in (naive, reduced)]
    assert numbers(view) == [(c.params, c.macs) for c in counted]
    assert [r["out_channels"] for r in view["rows"]] == [m.out_channels for m in (naive, reduced)]
    # the bars: each panel's segments sum to the row's number, and the longest bar fills the panel
    for panel, metric in zip(view["charts"], ("params", "macs"), strict=True):
        assert [bar["total"] for bar in panel["bars"]] == [r[metric] for r in view["rows"]]
        assert max(sum(s["pct"] for s in bar["segments"]) for bar in panel["bars"]) == pytest.approx(100, abs=0.01)


@pytest.mark.parametrize("settings", CH4_GRID)
def test_factorization_view_matches_the_widget_and_count(settings):
    from inception_lab.widgets.factorization import FactorizationExplorer, _torch_variant

    view = factorization.explorer_view(settings)
    v = view["settings"]
    explorer = FactorizationExplorer()
    for name, value in settings.items():
        explorer.sliders[name].value = value
    assert explorer.view == view and explorer.rows == factorization.explore(**v)
    for row in view["table"]["rows"]:
        assert row[3] in explorer.table.value and row[4] in explorer.table.value
    shape = (1, v["in_channels"], v["grid"], v["grid"])
    for row in view["rows"]:
        if v["n"] % 2 == 0:  # even kernels keep the grid only with TensorFlow's uneven padding (see explore)
            continue
        report = cost.count(_torch_variant(row["variant"], v).eval(), shape)
        assert (row["params"], row["macs"]) == (report.params, report.macs), row["variant"]


@pytest.mark.parametrize("settings", CH5_GRID)
def test_grid_reduction_view_matches_the_widget_and_count(settings):
    from inception_lab.nn.reduction import ConvFirst, GridReduction, PoolFirst
    from inception_lab.widgets.grid_reduction import GridReductionExplorer

    view = grid_reduction.explorer_view(settings)
    v = view["settings"]
    explorer = GridReductionExplorer(**v)
    assert explorer.view == view
    for row in view["table"]["rows"]:
        assert "".join(f"<td>{cell}</td>" for cell in row[1:3]) in explorer.table.value
    k, out = v["in_channels"], v["out_channels"]
    widths = view["rows"][2]["widths"]
    modules = [PoolFirst(k, out, kernel=v["kernel"], pool=v["pool"]),
               ConvFirst(k, out, kernel=v["kernel"], pool=v["pool"]), GridReduction(k, **widths, pool=v["pool"])]
    counted = [cost.count(m.eval(), (1, k, v["size"], v["size"])) for m in modules]
    assert numbers(view) == [(c.params, c.macs) for c in counted]
    marker = view["charts"][2]["marker"]
    assert marker["value"] == out * view["rows"][0]["output"][1] * view["rows"][0]["output"][2]


def test_a_setting_that_cannot_be_built_is_explained_not_raised():
    view = grid_reduction.explorer_view(dict(out_channels=288))
    assert "out_channels must exceed in_channels" in view["error"] and view["rows"] == [] and view["charts"] == []


@pytest.mark.parametrize("name", sorted(explorers.EXPLORERS))
def test_views_are_plain_json(name):
    controls, entry_point = explorers.EXPLORERS[name]
    view = entry_point(None)
    assert json.loads(json.dumps(view))["table"] == view["table"]  # json.dumps raises on anything not plain
    assert view["settings"] == {c.name: c.default for c in controls}
    assert f"{view['rows'][0]['params']:,}" in view["alt"] and f"{view['rows'][-1]['macs']:,}" in view["alt"]
    spec = json.loads(explorers.spec_json(name))
    assert [c["name"] for c in spec["controls"]] == [c.name for c in controls]
    assert spec["view"] == json.loads(json.dumps(view))


@pytest.mark.parametrize("name, settings", [("inception-module", s) for s in CH1_GRID[1:3]]
                         + [("factorization", s) for s in CH4_GRID[1:3]]
                         + [("grid-reduction", s) for s in CH5_GRID[1:3]])
def test_the_json_bridge_returns_the_entry_points_view(name, settings):
    _, entry_point = explorers.EXPLORERS[name]
    assert json.loads(explorers.view_json(name, json.dumps(settings))) == json.loads(json.dumps(entry_point(settings)))


def test_bad_settings_get_clear_errors():
    assert "outside the explorer's range 7..56" in explorers.view("inception-module", dict(size=57))["error"]
    assert "unknown explorer setting(s) ['kernel']" in explorers.view("factorization", dict(kernel=3))["error"]
    assert "pool must be one of ('max', 'avg')" in explorers.view("grid-reduction", dict(pool="min"))["error"]
    assert "must be an integer" in explorers.view("factorization", dict(n=7.5))["error"]
    assert "must be a JSON object" in json.loads(explorers.view_json("factorization", "n=7"))["error"]
    with pytest.raises(ValueError, match="unknown explorer 'googlenet'; the cost explorers are"):
        explorers.spec("googlenet")
    with pytest.raises(ValueError, match="outside the explorer's range"):
        check_settings(inception.EXPLORER_CONTROLS, dict(in_channels=100000))


# ---------------------------------------------------------------------------------------------------------
# What the book ships: the formula layer alone, on a bare Python (as in Pyodide)
# ---------------------------------------------------------------------------------------------------------
def test_the_shipped_formula_layer_runs_on_a_bare_python(tmp_path):
    html = tmp_path / "html"
    ext.write_live_files(html, core=None)
    py = html / "_live" / "py"
    manifest = json.loads((py / "manifest.json").read_text())
    assert manifest["pyodide"] is None and manifest["module"] == "inception_lab.cost.explorers"
    assert "inception_lab/cost/explorers.py" in manifest["files"]
    assert "inception_lab/widgets/__init__.py" not in manifest["files"]
    for name in manifest["files"]:  # copies, byte for byte, of the package's files
        assert (py / name).read_bytes() == (ROOT / name).read_bytes()
    assert not (html / "_live" / "pyodide").exists()
    # -S: no site-packages (no torch, numpy, ipywidgets), -E: no PYTHONPATH; only the copied files and the stdlib
    code = ("import json, sys; sys.path.insert(0, sys.argv[1])\n"
            "from inception_lab.cost import explorers\n"
            "print(json.dumps({n: json.loads(explorers.spec_json(n)) for n in explorers.EXPLORERS}))\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'ipywidgets')]\n")
    result = subprocess.run([sys.executable, "-S", "-E", "-c", code, str(py)], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {n: json.loads(explorers.spec_json(n)) for n in explorers.EXPLORERS}


def test_every_explorer_has_one_marker_in_a_static_twin():
    found = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            for name in re.findall(r'<div class="il-live" data-explorer="([^"]+)">', source):
                assert cell["cell_type"] == "markdown" and re.match(r"\*(\{term\}`)?Static version", source), path.name
                assert '<p class="il-live-fallback">' in source
                assert "http.server" in source and "launch button" in source
                found.setdefault(name, []).append(path.name)
    assert found == {"inception-module": ["01_inception_module.ipynb"], "factorization": ["04_factorization.ipynb"],
                     "grid-reduction": ["05_grid_reduction.ipynb"]}
    assert set(found) == set(explorers.EXPLORERS)


def test_make_books_config_finds_the_extension():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "book_config.py"), "--execute"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    import yaml

    path = pathlib.Path(yaml.safe_load(result.stdout)["sphinx"]["local_extensions"]["live_explorers"])
    assert path.is_absolute() and (path / "live_explorers.py").is_file()


# ---------------------------------------------------------------------------------------------------------
# The Pyodide core: pinned, verified, optional
# ---------------------------------------------------------------------------------------------------------
def fake_tarball(path: pathlib.Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name in ext.CORE_FILES:
            data = b"not pyodide"
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_tarball_that_is_not_the_pinned_one_is_refused_and_the_build_goes_on_without(tmp_path):
    served = tmp_path / "registry"
    served.mkdir()
    fake_tarball(served / "pyodide.tgz")
    with load_module("scripts/serve_book.py").serve(served) as url:  # a loopback "registry": no network
        core, why = ext.ensure_core(tmp_path / "cache", url=f"{url}/pyodide.tgz")
        assert core is None and "could not fetch" in why and "hash" in why
        assert not (tmp_path / "cache" / f"pyodide-{ext.PYODIDE_VERSION}.tgz").exists()  # never kept
        core, why = ext.ensure_core(tmp_path / "cache", url=f"{url}/missing.tgz")
        assert core is None and "could not fetch" in why and "404" in why


def test_the_verified_tarball_is_cached_and_the_core_extracted_from_it_every_time(tmp_path, monkeypatch):
    served = tmp_path / "registry"
    served.mkdir()
    fake_tarball(served / "pyodide.tgz")  # stands for the pinned tarball: its hash becomes the pinned one
    pinned = "sha512:" + hashlib.sha512((served / "pyodide.tgz").read_bytes()).hexdigest()
    monkeypatch.setattr(ext, "PYODIDE_HASH", pinned)
    cache = tmp_path / "cache"
    with load_module("scripts/serve_book.py").serve(served) as url:
        core, why = ext.ensure_core(cache, url=f"{url}/pyodide.tgz")
        assert why == f"fetched into {cache}" and sorted(p.name for p in core.iterdir()) == sorted(ext.CORE_FILES)
        (core / "pyodide.js").write_bytes(b"tampered")  # an extracted file changed in the cache ...
    (served / "pyodide.tgz").unlink()  # ... and no registry any more: offline
    core, why = ext.ensure_core(cache, url=f"{url}/pyodide.tgz")
    assert why == f"cached in {cache}" and (core / "pyodide.js").read_bytes() == b"not pyodide"  # re-extracted
    with open(cache / f"pyodide-{ext.PYODIDE_VERSION}.tgz", "ab") as tarball:
        tarball.write(b"x")  # the cached tarball itself changed: refused, and there is no network to fetch it again
    core, why = ext.ensure_core(cache, url=f"{url}/pyodide.tgz")
    assert core is None and "could not fetch" in why


def test_the_pinned_hash_is_npms_integrity_and_the_switches_work(tmp_path, monkeypatch):
    digest = base64.b64decode(ext.PYODIDE_INTEGRITY.removeprefix("sha512-"))
    assert ext.PYODIDE_HASH == "sha512:" + digest.hex() and len(digest) == 64
    monkeypatch.setenv("INCEPTION_LAB_PYODIDE", "off")
    assert ext.ensure_core(tmp_path) == (None, "INCEPTION_LAB_PYODIDE is off")
    monkeypatch.delenv("INCEPTION_LAB_PYODIDE")
    monkeypatch.setenv("INCEPTION_LAB_PYODIDE_CACHE", str(tmp_path / "cache"))
    assert ext.cache_dir() == tmp_path / "cache" / ext.PYODIDE_VERSION


def test_the_core_is_never_committed():
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT).stdout.split()
    assert not [f for f in tracked if f.rsplit("/", 1)[-1] in ext.CORE_FILES or f.startswith("_static/")]


# ---------------------------------------------------------------------------------------------------------
# No formula in JavaScript
# ---------------------------------------------------------------------------------------------------------
TOKEN = re.compile(r"""(?P<comment>/\*.*?\*/|//[^\n]*)|(?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|"""
                   r"""(?P<template>`)|(?P<number>\d[\w.]*)|(?P<name>[A-Za-z_$][\w$]*)|(?P<op>[^\s\w])""", re.S)


def formula_words() -> set[str]:
    """Names of the quantities and settings of the cost model: no page script may handle them by name."""
    words = {c.name for controls, _ in explorers.EXPLORERS.values() for c in controls}
    for _, entry_point in explorers.EXPLORERS.values():
        for row in entry_point(None)["rows"]:
            words |= set(row)
    for module in (cost, factorization, grid_reduction, inception):
        words |= set(getattr(module, "__all__", ())) | {n for n in vars(module) if n.endswith("_cost")}
    words |= {"flops", "params", "macs", "weights", "stride", "padding", "channels", "kernel_size", "Math"}
    return words - {"name", "label"}  # the view's own keys for a control's and a bar's name


def formula_problems(source: str) -> list[str]:
    """What in ``source`` could compute a cost instead of showing one: arithmetic, or a cost quantity by name.

    The page script may compare, index and join strings (``"a" + x`` with a string literal on one side); any other
    arithmetic operator, a number other than 0 and 1, a template literal or a cost-model name is reported.
    """
    tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(source) if m.lastgroup != "comment"]
    words, problems = formula_words(), []
    for i, (kind, text) in enumerate(tokens):
        if kind == "template":
            problems.append("template literal")
        elif kind == "number" and text not in ("0", "1"):
            problems.append(f"number {text}")
        elif kind == "name" and text in words:
            problems.append(f"cost-model name {text!r}")
        elif kind == "op" and text in "*/%-^~":
            problems.append(f"operator {text!r}")
        elif kind == "op" and text == "+":
            neighbours = [tokens[j][0] for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
            if "string" not in neighbours:
                problems.append("'+' without a string literal beside it")
    return problems


def test_the_page_script_holds_no_formula():
    source = SCRIPT.read_text()
    assert "spec_json" in source and "view_json" in source  # it does call the Python bridge
    assert formula_problems(source) == []


@pytest.mark.parametrize("snippet", [
    "var m = cin * cout * k * k;",  # the convolution's weights, copied
    "bar.style.width = (v / max) + '%';",  # a bar length computed in the page
    "total = a + b;",  # a sum of numbers
    "var r = row.macs;",  # a cost quantity read by name
    "x = settings.in_channels;",
    "n -= 1;",
    "var saving = `${a}`;",
    "Math.round(v);",
    "var big = 1e6;",
])
def test_the_formula_check_catches_a_copied_formula(snippet):
    assert formula_problems(snippet)


# ---------------------------------------------------------------------------------------------------------
# One palette: the explorer, its static twin in the chapter and the live view colour each bar segment alike
# ---------------------------------------------------------------------------------------------------------
WIDGETS = {"inception-module": ("inception_module", "InceptionExplorer"),
           "factorization": ("factorization", "FactorizationExplorer"),
           "grid-reduction": ("grid_reduction", "GridReductionExplorer")}


def _hex(colour) -> str:
    return matplotlib.colors.to_hex(colour).upper()


def static_twin(name: str) -> tuple[str, list[str]]:
    """Source and PNG outputs (base64) of the code cell right after the chapter's live marker for ``name``."""
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for i, cell in enumerate(cells):
            if f'data-explorer="{name}"' in "".join(cell["source"]):
                twin = cells[i + 1]
                return "".join(twin["source"]), [o["data"]["image/png"] for o in twin.get("outputs", [])
                                                 if "image/png" in o.get("data", {})]
    raise AssertionError(f"no chapter has a live marker for {name!r}")


def palette_colours_in(png: str, least: int = 50) -> set[str]:
    """The Okabe-Ito colours (black aside: it is the text's) that fill at least ``least`` pixels of a PNG."""
    import base64

    import matplotlib.image
    import numpy as np

    pixels = (matplotlib.image.imread(io.BytesIO(base64.b64decode(png)), format="png")[..., :3] * 255).round()
    found = set()
    for colour in set(OKABE_ITO.values()) - {OKABE_ITO["black"]}:
        rgb = np.array(matplotlib.colors.to_rgb(colour)) * 255
        if int((np.abs(pixels - rgb.round()) < 0.5).all(-1).sum()) >= least:
            found.add(colour.upper())
    return found


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_explorer_static_twin_and_live_view_give_each_segment_one_colour(name):
    import importlib

    module, cls = WIDGETS[name]
    explorer = getattr(importlib.import_module(f"inception_lab.widgets.{module}"), cls)()
    drawn = {p.get_gid(): _hex(p.get_facecolor()) for ax in explorer.figure.axes for p in ax.patches}
    spec = json.loads(explorers.spec_json(name))  # what the page script gets, and paints with
    live = {seg["key"]: spec["colours"]["series"][seg["series"]].upper()
            for panel in spec["view"]["charts"] for bar in panel["bars"] for seg in bar["segments"]}
    assert drawn == live and len(set(drawn.values())) == len(drawn)  # and one colour per branch, variant, strategy
    for legend in explorer.figure.legends:  # stacked bars (chapter 1): the legend's swatches, as the page's legend
        assert [_hex(h.get_facecolor()) for h in legend.legend_handles] == [
            spec["colours"]["series"][item["series"]].upper() for item in spec["view"]["legend"]]
    source, pngs = static_twin(name)
    assert "plot_view(" in source and "explorer_view(" in source  # the explorer's own drawing, of its own view
    assert pngs and palette_colours_in(pngs[0]) == set(drawn.values())
    plt.close("all")


def test_chapter4_sweep_and_chapter5_measurements_use_the_explorers_colours():
    from inception_lab.viz.cost_charts import view_colours

    _, pngs = static_twin("factorization")
    variants = view_colours(factorization.explorer_view())
    assert palette_colours_in(pngs[1]) == {variants[v].upper() for v in ("asymmetric", "stacked")}
    chapter5 = "".join("".join(c["source"]) for c in json.loads(
        (ROOT / "notebooks" / "05_grid_reduction.ipynb").read_text())["cells"])
    assert "view_colours(gr.explorer_view())" in chapter5 and "COLOURS = {" not in chapter5


def test_the_page_holds_no_colour_of_its_own():
    script, style = SCRIPT.read_text(), STYLE.read_text()
    assert not re.findall(r"#[0-9A-Fa-f]{6}\b", script)
    assert not {c.lower() for c in CYCLE} & set(re.findall(r"#[0-9a-f]{6}", style.lower()))
    assert "colours.series[piece.series]" in script and "colours.series[item.series]" in script
    assert "colours.alert" in script
    spec = explorers.spec("factorization")
    assert spec["colours"] == {"series": list(CYCLE), "alert": OKABE_ITO["vermillion"]}
    assert 'html[data-theme="dark"] .il-live' in style
