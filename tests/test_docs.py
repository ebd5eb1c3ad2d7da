"""The documentation names only what exists: every dotted ``inception_lab.x.y`` name in the repository's text
(docstrings, comments, markdown, notebooks, configuration) resolves to a module or an attribute."""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest

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


def dotted_names() -> dict[str, list[str]]:
    """Every dotted library name in the repository's text files -> the files that mention it."""
    found: dict[str, list[str]] = {}
    for path in sorted(ROOT.rglob("*")):
        if path.suffix not in TEXT_SUFFIXES or SKIP_PARTS & set(path.relative_to(ROOT).parts) or not path.is_file():
            continue
        if path == pathlib.Path(__file__).resolve():  # this file's examples of names that do not exist
            continue
        for name in set(DOTTED.findall(path.read_text(errors="replace"))):
            if name.rsplit(".", 1)[1] not in FILE_SUFFIXES:
                found.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    return found


NAMES = dotted_names()


def test_the_repository_mentions_library_names():
    assert len(NAMES) > 100  # the scan reads what it should (a broken pattern would find nothing)


def test_every_dotted_library_name_resolves():
    unresolved = {}
    for name, files in sorted(NAMES.items()):
        try:
            resolve(name)
        except AttributeError:
            unresolved[name] = files
    assert unresolved == {}, f"names that do not exist (where they are written): {unresolved}"


@pytest.mark.parametrize("name", ["inception_lab.shapes.no_such_function", "inception_lab.no_such_module.walk"])
def test_a_name_that_does_not_exist_is_caught(name):
    with pytest.raises(AttributeError):
        resolve(name)
