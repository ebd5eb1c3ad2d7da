"""Structure of every chapter notebook (nbval separately re-executes each one and compares its outputs)."""

import json
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ignored_outputs_are_rare(path):
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    ignored = [c for c in code if "nbval-ignore-output" in c.get("metadata", {}).get("tags", [])]
    assert len(ignored) <= max(3, len(code) // 8)
