"""Write student versions of the chapter notebooks: exercise solutions removed, outputs cleared (`make student`).

Usage (from the repository root):
    python scripts/make_student.py [--out student] [notebooks/01_inception_module.ipynb ...]

For every notebook (default: all chapters in notebooks/) it writes ``<out>/<same name>.ipynb`` where

* every gated solution -- from ``:::{solution-start}`` to ``:::{solution-end}``, markdown and code cells alike --
  is replaced by one stub code cell ("# Your answer here ..."), and the prose around it is kept;
* every output and execution count is cleared;
* everything else (exercises, checker cells, hidden assert cells, tags, metadata) is left intact.

The student notebooks run top to bottom: each exercise cell calls its checker with ``answer = None``, which
returns "Not yet ..." feedback instead of raising. Instructors hand out the student folder (or push it to a
separate repository for Colab links); see book/instructors.md.
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import re

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
START = re.compile(r":::\{solution-start\}")
END = re.compile(r":::\{solution-end\}\s*\n:::\s*\n?")
STUB = ("# Your answer here. (The worked solution is in the instructor's version of this notebook.)\n"
        "# Run the checker cell above again with your answer; a wrong answer gets a hint.")


def studentize(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """A copy of ``nb`` without solutions and outputs, and the number of solutions removed."""
    out = copy.deepcopy(nb)
    cells, inside, removed = [], False, 0
    for cell in out.cells:
        text = cell.source
        if not inside:
            match = START.search(text) if cell.cell_type == "markdown" else None
            if match is None:
                cells.append(cell)
                continue
            before = text[:match.start()].rstrip()
            if before:
                cell.source = before + "\n"
                cells.append(cell)
            cells.append(nbformat.v4.new_code_cell(STUB, metadata={"tags": ["student-stub"]}))
            removed += 1
            inside, text = True, text[match.start():]
        end = END.search(text) if cell.cell_type == "markdown" else None
        if end is None:
            continue  # a cell of the solution: dropped
        inside = False
        after = text[end.end():].strip()
        if after:
            cells.append(nbformat.v4.new_markdown_cell(after + "\n", metadata=cell.metadata))
    if inside:
        raise ValueError("a solution-start without its solution-end")
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    out.cells = cells
    return out, removed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "student")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        student, removed = studentize(nbformat.read(path, as_version=4))
        target = args.out / path.name
        nbformat.write(student, target)
        print(f"{target}: {removed} solutions removed")


if __name__ == "__main__":
    main()
