"""Idempotent, anchor-based notebook edits for the second-edition scripts (``scripts/second_edition_ch*.py``).

Every edit locates its cell by distinctive text, asserts that the anchor is there, and does nothing when the edit
has already been made (it looks for a ``marker``: a piece of the new text that the old text lacks). So a script
can be re-run on its own output, or on another branch's version of the notebook after a merge.
"""

from __future__ import annotations

import sys

import nbformat


class Notebook:
    """A notebook opened for editing; ``save()`` writes it back."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.nb = nbformat.read(path, as_version=4)
        self.cells = self.nb.cells
        self.log: list[str] = []

    # --- finding -------------------------------------------------------------------------------------------
    def has(self, text: str) -> bool:
        return any(text in c.source for c in self.cells)

    def find(self, text: str) -> int:
        """Index of the one cell whose source contains ``text`` (an AssertionError if none or several)."""
        hits = [i for i, c in enumerate(self.cells) if text in c.source]
        assert len(hits) == 1, f"{self.path}: anchor {text[:70]!r} found in {len(hits)} cells, expected 1"
        return hits[0]

    # --- editing ---------------------------------------------------------------------------------------------
    def replace(self, old: str, new: str, marker: str | None = None, soft: bool = False) -> None:
        """Replace ``old`` by ``new`` in the one cell holding it; skip when ``marker`` (default ``new``) is there.

        ``soft=True``: for text in cells another branch owns -- when ``old`` is gone, report and go on.
        """
        marker = new if marker is None else marker
        if marker and self.has(marker):
            return
        if soft and not self.has(old):
            print(f"NOTE {self.path}: soft edit skipped, text not found: {old[:70]!r}", file=sys.stderr)
            return
        i = self.find(old)
        self.cells[i].source = self.cells[i].source.replace(old, new)
        self.log.append(f"replaced in cell {i}: {old[:50]!r}")

    def insert(self, anchor: str, new_cells: list, marker: str, after: bool = True) -> None:
        """Insert ``new_cells`` after (or before) the cell holding ``anchor``, unless ``marker`` is already there."""
        if self.has(marker):
            return
        i = self.find(anchor) + (1 if after else 0)
        self.cells[i:i] = new_cells
        self.log.append(f"inserted {len(new_cells)} cell(s) at {i}: {marker[:50]!r}")

    def split_before(self, text: str) -> None:
        """Make ``text`` (e.g. a section heading) start a cell of its own, splitting the cell that holds it."""
        if any(c.source.startswith(text) for c in self.cells):
            return
        i = self.find(text)
        head, tail = self.cells[i].source.split(text, 1)
        assert head.strip(), f"{self.path}: {text[:50]!r} already starts cell {i}"
        self.cells[i].source = head.rstrip("\n")
        self.cells.insert(i + 1, md(text + tail))
        self.log.append(f"split cell {i} before {text[:50]!r}")

    def tag(self, anchor: str, *tags: str) -> None:
        cell = self.cells[self.find(anchor)]
        current = cell.metadata.setdefault("tags", [])
        for t in tags:
            if t not in current:
                current.append(t)

    def tag_index(self, index: int, *tags: str) -> None:
        current = self.cells[index].metadata.setdefault("tags", [])
        for t in tags:
            if t not in current:
                current.append(t)

    def save(self) -> None:
        nbformat.validate(self.nb)
        nbformat.write(self.nb, self.path)
        print(f"{self.path}: {len(self.log)} edit(s) made, {len(self.cells)} cells")
        for line in self.log:
            print("  " + line)


def md(text: str):
    return nbformat.v4.new_markdown_cell(text)


def code(text: str, tags: tuple[str, ...] = ()):
    cell = nbformat.v4.new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell
