"""The cost explorers by name, and the JSON bridge the book's live explorers call in the reader's browser.

The rendered book runs this very package in Pyodide (CPython compiled to WebAssembly): its page script passes the
slider values to :func:`view_json` as JSON and draws the JSON that comes back, so the browser shows what
:func:`~inception_lab.cost.inception.explorer_view` and its siblings compute -- no formula is written twice.
The names are those of the ``data-explorer`` markers in the chapters. Pure Python (``json`` only).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from inception_lab.cost import factorization, grid_reduction, inception
from inception_lab.cost.view import Control, colours

#: name -> (controls, entry point): chapter 1, chapter 4, chapter 5.
EXPLORERS: dict[str, tuple[tuple[Control, ...], Callable[[Mapping[str, Any] | None], dict[str, Any]]]] = {
    "inception-module": (inception.EXPLORER_CONTROLS, inception.explorer_view),
    "factorization": (factorization.EXPLORER_CONTROLS, factorization.explorer_view),
    "grid-reduction": (grid_reduction.EXPLORER_CONTROLS, grid_reduction.explorer_view),
}


def _explorer(name: str):
    if name not in EXPLORERS:
        raise ValueError(f"unknown explorer {name!r}; the cost explorers are {sorted(EXPLORERS)}.")
    return EXPLORERS[name]


def view(name: str, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The view of explorer ``name`` for ``settings``; a setting the explorer rejects gives ``{"error": why}``."""
    controls, entry_point = _explorer(name)
    try:
        return entry_point(settings)
    except ValueError as err:
        return {"explorer": name, "error": str(err)}


def spec(name: str) -> dict[str, Any]:
    """What a renderer needs to start: the controls (ranges, labels, defaults), the view of the defaults, and the
    book's colours (:func:`~inception_lab.cost.view.colours`: the page holds none of its own)."""
    controls, entry_point = _explorer(name)
    return {"explorer": name, "controls": [c.as_dict() for c in controls], "view": entry_point(None),
            "colours": colours()}


def spec_json(name: str) -> str:
    """:func:`spec` as JSON."""
    return json.dumps(spec(name))


def view_json(name: str, settings_json: str) -> str:
    """:func:`view` with the settings given and the view returned as JSON (the browser's call)."""
    try:
        settings = json.loads(settings_json)
    except json.JSONDecodeError as err:
        return json.dumps({"explorer": name, "error": f"settings must be a JSON object: {err}"})
    if not isinstance(settings, dict):
        return json.dumps({"explorer": name, "error": f"settings must be a JSON object, got {settings_json!r}."})
    return json.dumps(view(name, settings))


__all__ = ["EXPLORERS", "view", "spec", "spec_json", "view_json"]
