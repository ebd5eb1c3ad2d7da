"""Structure of every chapter notebook (nbval separately re-executes each one and compares its outputs)."""

import json
import pathlib

import pytest
import yaml
from conftest import load_module

import inception_lab

ROOT = pathlib.Path(__file__).resolve().parents[1]
pin_notebooks = load_module("scripts/pin_notebooks.py")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(path):
    return json.loads(path.read_text())["cells"]


def test_there_are_chapters_and_all_are_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    assert NOTEBOOKS
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in files


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_executed_top_to_bottom_with_outputs(path):
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-run with `make notebooks`"
    assert not any(o.get("output_type") == "error" for c in code for o in c["outputs"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_starts_with_install_cell_and_seeds(path):
    code = ["".join(c["source"]) for c in cells(path) if c["cell_type"] == "code"]
    assert "pip" in code[0] and 'find_spec("inception_lab")' in code[0]
    # Pinned: Colab/Binder install the library at the tag of this version, so notebook and library match.
    assert code[0] == pin_notebooks.install_cell(pin_notebooks.library_version()), \
        "first cell out of date: run scripts/pin_notebooks.py notebooks/*.ipynb"
    assert f'LIBRARY_VERSION = "{inception_lab.__version__}"' in code[0]
    assert "torch" not in code[0].replace("torch and ipywidgets are never replaced", "")
    assert any("pick_device()" in src for src in code[:3])
    assert any("seed_everything(" in src for src in code[:3])
    assert not any("sys.path" in src for src in code), "notebooks import the installed package"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_have_checkers_and_hidden_solutions(path):
    nb = cells(path)
    text = ["".join(c["source"]) for c in nb]
    exercises = [t for t in text if "{exercise}" in t]
    assert len(exercises) >= 3
    starts = [t for t in text if "{solution-start}" in t]
    assert len(starts) == len(exercises) == sum("{solution-end}" in t for t in text)
    solutions = [c for c in nb if "solution" in c.get("metadata", {}).get("tags", [])]
    assert solutions and all(c["metadata"].get("jupyter", {}).get("source_hidden") for c in solutions)
    assert all("ex." in "".join(c["source"]) for c in solutions), "each solution runs its checker"


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def is_setup_cell(cell, code_index):
    """The imports/device cell: its device line differs from machine to machine."""
    return code_index < 3 and "describe_device(" in "".join(cell["source"])


def is_explorer(cell):
    """An interactive explorer: tagged `explorer`, or committed with a widget view in its outputs."""
    return "explorer" in tags(cell) or any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))


def is_hidden_assert(cell):
    return cell["cell_type"] == "code" and "remove-cell" in tags(cell) and "assert " in "".join(cell["source"])


def starts_section(cell):
    lines = "".join(cell["source"]).splitlines()
    return cell["cell_type"] == "markdown" and any(line.startswith("#") for line in lines)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_measured_outputs_are_checked_by_hidden_asserts(path):
    """Every output that nbval does not compare is still checked, by an assert that holds on any machine.

    CONTRIBUTING.md, "Exact and measured outputs": exact outputs are compared strictly; measured ones (training,
    timing) sit in cells tagged `nbval-ignore-output`, and what the prose claims about them is checked by a hidden
    assert cell (`remove-cell`) placed after the measured cell and before the next section heading, so the claim
    and its check stay together. Exempt: the setup cell (its device line) and explorers (widgets, checked by
    scripts/colab_like_check.sh). Counting ignored cells (the rule this replaces) said nothing about whether their
    numbers were checked; this rule says that each one is.
    """
    nb = cells(path)
    code_index = {i: n for n, i in enumerate(i for i, c in enumerate(nb) if c["cell_type"] == "code")}
    unchecked = []
    for i, cell in enumerate(nb):
        if cell["cell_type"] != "code" or "nbval-ignore-output" not in tags(cell):
            continue
        if is_setup_cell(cell, code_index[i]) or is_explorer(cell):
            continue
        following = []
        for later in nb[i + 1:]:
            if starts_section(later):
                break
            following.append(later)
        if not any(is_hidden_assert(c) for c in following):
            unchecked.append(f"code cell {code_index[i]}: " + "".join(cell["source"]).splitlines()[0])
    assert not unchecked, "measured cells without a hidden assert cell before the next heading: " + "; ".join(unchecked)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_hidden_assert_cells_are_hidden_and_compared(path):
    """Assert cells are removed from the book and are not themselves exempt from nbval."""
    for cell in cells(path):
        if cell["cell_type"] == "code" and "remove-cell" in tags(cell):
            assert "nbval-ignore-output" not in tags(cell), "".join(cell["source"])[:80]
            assert not any(out.get("output_type") == "stream" and out.get("name") == "stdout"
                           for out in cell["outputs"]), "a hidden cell prints nothing the reader would miss"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_hard_coded_machine_paths(path):
    # A notebook must run from any checkout, on Colab and on Binder: no absolute paths of one machine.
    sources = "\n".join("".join(c["source"]) for c in cells(path))
    for marker in ("/work/", "/root/", "/home/", "/Users/", "C:\\\\"):
        assert marker not in sources, f"{path.name} contains the machine path {marker!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_headings_carry_no_manual_numbers(path):
    # The book numbers sections itself (_toc.yml: numbered); a typed "5." would read "4.5. 5. Explore".
    # Refer to a section with a label and {numref} instead.
    import re

    typed = [line for c in cells(path) if c["cell_type"] == "markdown"
             for line in "".join(c["source"]).splitlines() if re.match(r"#{1,6} \d+\.? ", line)]
    assert not typed, typed


def test_the_widget_check_finds_explorers_by_cell_id_and_fails_without_a_widget(tmp_path, monkeypatch):
    """scripts/check_widgets.py (the Colab-like check): every committed explorer must display a widget when run."""
    import nbformat

    check_widgets = load_module("scripts/check_widgets.py")
    view = nbformat.v4.new_output("display_data", data={check_widgets.WIDGET_VIEW: {"model_id": "x"}})
    committed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("explore()", outputs=[view]),
                                                nbformat.v4.new_code_cell("print(1)")])
    (tmp_path / "committed").mkdir()
    nbformat.write(committed, tmp_path / "committed" / "ch.ipynb")
    monkeypatch.setattr("sys.argv", ["check_widgets.py", "--committed", str(tmp_path / "committed"),
                                     str(tmp_path / "ch.ipynb")])
    executed = nbformat.reads(nbformat.writes(committed), as_version=4)
    nbformat.write(executed, tmp_path / "ch.ipynb")
    assert check_widgets.main() == 0
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="Explorer(...)")]
    nbformat.write(executed, tmp_path / "ch.ipynb")
    assert check_widgets.main() == 1  # ipywidgets 7 printed the object's repr instead of the widget
    executed.cells = executed.cells[1:]
    nbformat.write(executed, tmp_path / "ch.ipynb")
    assert check_widgets.main() == 1  # the explorer cell is gone
