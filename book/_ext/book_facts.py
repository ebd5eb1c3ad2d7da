"""Sphinx extension: what a page may say about the build itself, computed when the book is built, never typed.

MyST substitutions for the pages (``{{ library_version }}`` and the rest, below), set when the configuration is read:

* ``library_version``: ``inception_lab.__version__`` of the checkout being built (read from its source file, so the
  book names the library its notebooks ran with, whatever is installed);
* ``repository_url``, ``book_url``, ``changelog_url`` and the same as Markdown links (``repository_link``,
  ``book_link``, ``changelog_link``): derived from ``repository.url`` / ``repository.branch`` of ``_config.yml`` by
  ``scripts/pin_notebooks.py``, the one derivation the README and the notebooks' first cell also use, so a fork's
  book follows its one edit of ``_config.yml``.

Substitutions already set in the configuration (``parse.myst_substitutions``) stay; these names are computed.
"""

from __future__ import annotations

import importlib.util
import pathlib
from types import ModuleType
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _pin_notebooks(root: pathlib.Path) -> ModuleType:
    """``scripts/pin_notebooks.py`` of the checkout (a script, not a package module)."""
    path = root / "scripts" / "pin_notebooks.py"
    spec = importlib.util.spec_from_file_location("pin_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def book_facts(root: pathlib.Path = ROOT) -> dict[str, str]:
    """The substitutions for the checkout at ``root``."""
    pin = _pin_notebooks(root)
    repo = pin.repository(root)
    facts = {
        "library_version": pin.library_version(root),
        "repository_url": repo.url,
        "book_url": repo.book_url,
        "changelog_url": repo.file_url("CHANGELOG.md"),
    }
    facts["repository_link"] = f"[{repo.owner}/{repo.name}]({facts['repository_url']})"
    facts["book_link"] = f"<{facts['book_url']}>"
    facts["changelog_link"] = f"[CHANGELOG.md]({facts['changelog_url']})"
    return facts


def _config_inited(app: Any, config: Any) -> None:
    config.myst_substitutions = {**(config.myst_substitutions or {}), **book_facts(pathlib.Path(app.srcdir))}


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _config_inited)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
