"""Every explorer cell of an executed notebook displays a widget (the Colab-like check: ipywidgets 7 and 8).

Usage:
    python scripts/check_widgets.py --committed notebooks EXECUTED.ipynb...

An explorer cell is one tagged ``explorer``, or one whose committed output holds a widget view
(``application/vnd.jupyter.widget-view+json``) in ``--committed/<same file name>``; cells are matched by their id,
which student versions (``scripts/make_student.py``) keep. Executing is nbmake's job (``pytest --nbmake --overwrite``);
this only reads what it wrote. Exits 1, naming the cells, if an explorer displayed no widget.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def shows_widget(cell: nbformat.NotebookNode) -> bool:
    return any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))


def explorer_ids(committed: nbformat.NotebookNode) -> set[str]:
    return {c.id for c in committed.cells if c.cell_type == "code" and
            ("explorer" in c.metadata.get("tags", []) or shows_widget(c))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("executed", nargs="+", type=pathlib.Path)
    parser.add_argument("--committed", type=pathlib.Path, required=True, help="folder of the committed notebooks")
    args = parser.parse_args()
    problems = []
    for path in args.executed:
        ids = explorer_ids(nbformat.read(args.committed / path.name, as_version=4))
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.get("id") in ids]
        if len(cells) != len(ids):  # explorers are never part of a solution: every one must be there
            problems.append(f"{path}: explorer cells missing: {sorted(ids - {c.id for c in cells})}")
        problems += [f"{path}: explorer cell {c.id} displayed no widget; it printed "
                     f"{[sorted(o.get('data', {})) or o.output_type for o in c.outputs]}"
                     for c in cells if not shows_widget(c)]
        print(f"{path}: {len(cells) - sum(not shows_widget(c) for c in cells)} of {len(cells)} explorers displayed "
              f"a widget")
    print("\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
