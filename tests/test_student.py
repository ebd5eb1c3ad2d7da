"""Student versions (`make student`): no solution survives, and everything else does.

That they run to the end (each exercise cell gets "Not yet" feedback instead of an error) is checked where every
chapter is executed as another machine: chapter 1's student version in scripts/colab_like_check.sh.
"""

from __future__ import annotations

import pathlib

import nbformat
import pytest
from conftest import load_module

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
make_student = load_module("scripts/make_student.py")


def _solution_sources(nb):
    """Sources of every cell tagged `solution`, and the prose lines inside solution blocks."""
    texts, inside = [], False
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []):
            texts.append(cell.source)
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith(":::{solution-start}"):
                    inside = True
                elif line.startswith(":::{solution-end}"):
                    inside = False
                elif inside and len(line) > 30 and not line.startswith(":"):
                    texts.append(line)
    return texts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_version_has_no_solution_and_keeps_the_rest(path):
    nb = nbformat.read(path, as_version=4)
    student, removed = make_student.studentize(nb)
    nbformat.validate(student)
    text = "\n".join(c.source for c in student.cells)
    exercises = sum("{exercise}" in c.source for c in nb.cells)
    assert removed == exercises >= 3
    assert "solution-start" not in text and "solution-end" not in text
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    for source in _solution_sources(nb):
        assert source not in text, f"solution text survived: {source[:60]!r}"
    assert sum("{exercise}" in c.source for c in student.cells) == exercises
    assert sum("student-stub" in c.metadata.get("tags", []) for c in student.cells) == exercises
    assert all(not c.outputs and c.execution_count is None for c in student.cells if c.cell_type == "code")
    kept = [c.source for c in nb.cells if "solution" not in c.metadata.get("tags", []) and c.cell_type == "code"]
    assert all(source in text for source in kept)  # every non-solution code cell is still there

