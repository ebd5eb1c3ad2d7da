"""The prose pages stay in step with the library: every `inception_lab....` name they cite exists."""

import importlib
import pathlib
import re

import pytest

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
