"""Book integration: computed values for the prose (``glue``) and figures shown with their alternative text.

In the rendered book, ``{glue:text}`name``` in a markdown cell shows the value computed in the notebook, so
prose cannot drift from code. When myst-nb is not installed (Colab, Binder) ``glue`` does nothing: the
notebooks print every number they glue, so Jupyter readers see it in the cell output.

Every figure of the book carries alternative text that says what it shows, written by the code that draws it:
a drawing function attaches it with :func:`set_alt_text`, and :func:`show` displays the figure with that text in
the image output's metadata (``{"image/png": {"alt": ...}}``). The book's build copies it onto the ``<img>``
(``book/_theme/figure_alt.py``); Jupyter shows the figure as usual.

A printed table that is a table is shown with :func:`markdown_table`: the cells are computed, the book renders a
table, and nbval still compares its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_ALT_ATTRIBUTE = "_inception_lab_alt_text"


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


def set_alt_text(figure: Any, text: str) -> Any:
    """Attach alternative text (what the figure shows, in words) to a matplotlib figure; returns the figure."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"alternative text must be a non-empty string saying what the figure shows, got {text!r}.")
    setattr(figure, _ALT_ATTRIBUTE, " ".join(text.split()))
    return figure


def alt_text(figure: Any) -> str | None:
    """The alternative text attached to ``figure`` by :func:`set_alt_text`, or None."""
    return getattr(figure, _ALT_ATTRIBUTE, None)


def show(figure: Any = None, alt: str | None = None) -> None:
    """Display a figure with its alternative text, then close it (use instead of ``plt.show()``).

    Args:
        figure: a matplotlib figure (default: the current one).
        alt: what the figure shows, in words; default: the text its drawing function attached.

    Raises:
        ValueError: when the figure has no alternative text and ``alt`` is not given.
    """
    import matplotlib.pyplot as plt

    figure = plt.gcf() if figure is None else figure
    if alt is not None:
        set_alt_text(figure, alt)
    text = alt_text(figure)
    if text is None:
        raise ValueError("this figure has no alternative text: pass alt='what it shows', or draw it with a "
                         "function of inception_lab that describes its figure.")
    try:
        from IPython.display import display
    except ImportError:  # plain Python: nothing to display into
        plt.close(figure)
        return
    display(figure, metadata={"image/png": {"alt": text}})
    plt.close(figure)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> Any:
    """A table the book renders as a table: a Markdown display object built from computed cells.

    Args:
        columns: header labels.
        rows: one sequence of cells per row (each cell is shown with ``str``; format numbers before).
        align: one letter per column, ``"l"`` (left) or ``"r"`` (right); default: the first column left, the
            others right.

    Returns:
        ``IPython.display.Markdown`` (Jupyter and the book render it; nbval compares its text), or the Markdown
        text itself where IPython is not installed.

    Raises:
        ValueError: if a row or ``align`` does not have one entry per column.
    """
    align = align or "l" + "r" * (len(columns) - 1)
    if len(align) != len(columns) or set(align) - {"l", "r"}:
        raise ValueError(f"align needs one 'l' or 'r' per column ({len(columns)} columns), got {align!r}.")
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"every row needs {len(columns)} cells (one per column {list(columns)}), got {list(row)}.")
    cell = lambda value: str(value).replace("|", "\\|")  # noqa: E731  a pipe would end the cell
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    text = "\n".join(lines)
    try:
        from IPython.display import Markdown
    except ImportError:
        return text
    return Markdown(text)
