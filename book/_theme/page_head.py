"""Sphinx hook for the book's pages: each script in a page's <head> once.

jupyter-book 1.0.4 registers sphinx-thebe's inline configuration script twice (``const THEBE_JS_URL = ...``),
so every page raised "Identifier 'THEBE_JS_URL' has already been declared" in the browser (found by
``tests/test_browser.py``). Duplicates (the same body, once with filename ``None``, once ``""``) are dropped per
page, keeping the first.
"""

from __future__ import annotations

from typing import Any


def _each_script_once(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for js in scripts:
        key = (getattr(js, "filename", js) or None, tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app: Any) -> dict:
    app.connect("html-page-context", _each_script_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
