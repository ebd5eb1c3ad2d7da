"""The prose pages stay in step with the library: every `inception_lab....` name they cite exists."""

import importlib
import pathlib
import re

import pytest
from conftest import load_module

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md")) + [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[i:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_cited_library_name_exists(page):
    names = set(re.findall(r"`(inception_lab(?:\.\w+)+)", page.read_text()))
    missing = []
    for name in sorted(names):
        try:
            _resolve(name)
        except (ModuleNotFoundError, AttributeError):
            missing.append(name)
    assert not missing, f"{page.name} cites names the library does not have: {missing}"


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
