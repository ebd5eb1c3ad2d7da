"""Book integration: publish a computed value to the prose with myst-nb's ``glue``.

In the rendered book, ``{glue:text}`name``` in a markdown cell shows the value computed in the notebook, so
prose cannot drift from code. When myst-nb is not installed (Colab, Binder) ``glue`` does nothing: the
notebooks print every number they glue, so Jupyter readers see it in the cell output.
"""

from __future__ import annotations

from typing import Any


class _Text:
    """A string whose plain-text repr has no quotes (myst-nb renders the repr)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def glue(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` for the book (numbers as numbers, strings without quotes); no display."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # outside the book toolchain there is nothing to publish to
        return
    myst_glue(name, _Text(value) if isinstance(value, str) else value, display=False)
