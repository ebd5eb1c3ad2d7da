"""The prose stays in step with the library: every dotted ``inception_lab.x.y`` name in the repository's text
(docstrings, comments, markdown pages, notebooks, configuration) exists; the crosswalk, notation and glossary pages
cite real chapters."""

from __future__ import annotations

import importlib
import os
import pathlib
import re

import pytest
from conftest import load_module

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".toml", ".yml", ".yaml", ".cfg", ".sh", ".js", ".txt"}
SKIP_PARTS = {".git", ".venv", "_build", "_vendor", "student", "__pycache__", "node_modules", ".ipynb_checkpoints"}
#: A dotted name (not part of a path or a longer name); a trailing file suffix (``inception_lab.css``) is a file name.
DOTTED = re.compile(r"(?<![\w/.-])inception_lab(?:\.[A-Za-z_]\w*)+(?![\w/-])")
FILE_SUFFIXES = {"css", "js", "py", "json", "pt", "ipynb", "md", "egg"}


def resolve(name: str) -> object:
    """The object ``name`` denotes: the longest importable module prefix, then attributes (AttributeError if not)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError as err:
            if err.name is None or not ".".join(parts[:i]).startswith(err.name):
                raise  # the module exists but one of its own imports failed: not a documentation problem
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise AttributeError(name)


def text_files() -> list[pathlib.Path]:
    """The repository's text files, without build outputs, environments and vendored code (pruned, not walked)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_PARTS)
        found += [pathlib.Path(folder, f) for f in sorted(files) if pathlib.Path(f).suffix in TEXT_SUFFIXES]
    return found


def dotted_names() -> dict[str, list[str]]:
    """Every dotted library name in the repository's text files -> the files that mention it."""
    found: dict[str, list[str]] = {}
    for path in text_files():
        if path == pathlib.Path(__file__).resolve():  # this file's examples of names that do not exist
            continue
        for name in set(DOTTED.findall(path.read_text(errors="replace"))):
            if name.rsplit(".", 1)[1] not in FILE_SUFFIXES:
                found.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    return found


def test_every_dotted_library_name_resolves():
    names = dotted_names()
    assert len(names) > 100  # the scan reads what it should (a broken pattern would find nothing)
    unresolved = {}
    for name, files in sorted(names.items()):
        try:
            resolve(name)
        except AttributeError:
            unresolved[name] = files
    assert unresolved == {}, f"names that do not exist (where they are written): {unresolved}"


@pytest.mark.parametrize("name", ["inception_lab.shapes.no_such_function", "inception_lab.no_such_module.walk"])
def test_a_name_that_does_not_exist_is_caught(name):
    with pytest.raises(AttributeError):
        resolve(name)


def _chapters() -> dict[int, pathlib.Path]:
    return {int(p.name[:2]): p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def test_crosswalk_covers_every_chapter_and_cites_real_chapters():
    rows = [line for line in (ROOT / "book" / "crosswalk.md").read_text().splitlines() if line.startswith("| [")
            or line.startswith("| ") and not line.startswith("| paper")]
    cited = set()
    for row in rows:
        column = row.rstrip(" |").rsplit("|", 1)[-1]
        cited |= {int(n) for n in re.findall(r"\b(\d)\b", column)}
    assert cited, "no chapter numbers found in the crosswalk's last column"
    assert cited <= set(_chapters()), f"the crosswalk names chapters that do not exist: {cited - set(_chapters())}"
    assert set(_chapters()) <= cited, f"chapters missing from the crosswalk: {set(_chapters()) - cited}"


def test_notation_is_used_and_papers_are_the_ones_the_chapters_cite():
    notation = (ROOT / "book" / "notation.md").read_text()
    keys = set(re.findall(r"\{cite:p\}`([\w,]+)`", notation))
    chapters = "".join(p.read_text() for p in _chapters().values())
    for key in keys:
        assert key in chapters, f"notation lists {key}, which no chapter cites"
    assert "MACs" in notation and "FLOPs" in notation  # the units every cost in the book is given in


def test_every_glossary_term_is_linked_from_the_chapters_that_introduce_it():
    import subprocess
    import sys

    notebooks = [str(p) for p in _chapters().values()]
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "link_glossary.py"), "--check", *notebooks],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_glossary_entry_names_its_chapters():
    terms = load_module("scripts/link_glossary.py").glossary_terms()
    assert len(terms) >= 25
    assert all(set(chapters) <= set(_chapters()) for chapters in terms.values())
