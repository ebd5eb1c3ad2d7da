"""Plain-data views of the cost explorers: their controls, a table and bar charts, ready for any renderer.

Each cost explorer has one entry point in its topic file (:func:`inception_lab.cost.inception.explorer_view`,
:func:`inception_lab.cost.factorization.explorer_view`, :func:`inception_lab.cost.grid_reduction.explorer_view`)
that takes the explorer's settings and returns a *view*: a JSON-serializable dict of numbers, labels and
preformatted strings. Two renderers draw it: the ipywidgets explorer in a kernel, and the live explorer of the
rendered book, where the same Python runs in the reader's browser (Pyodide) and JavaScript only copies strings and
bar lengths into the page. So every number, label and bar length is computed here, once. A bar segment or legend
item names its colour by ``series``; :func:`colours` turns that into the book's colour (:mod:`inception_lab.palette`)
for every renderer. Pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inception_lab import palette
from inception_lab.checks import check_choice, check_number


@dataclass(frozen=True)
class Control:
    """One setting of an explorer: a slider over a range (``choices`` empty) or a choice among a few values.

    An integer ``default`` makes an integer slider; a float one a number slider.
    """

    name: str
    label: str
    default: int | float | str
    minimum: float = 0
    maximum: float = 0
    step: float = 1
    choices: tuple = ()

    @property
    def kind(self) -> str:
        """``"choice"``, ``"int"`` or ``"float"``."""
        if self.choices:
            return "choice"
        return "int" if isinstance(self.default, int) else "float"

    def check(self, value: Any) -> Any:
        """Return ``value`` if the explorer allows it, else raise a ``ValueError`` that says what is allowed."""
        if self.kind == "choice":
            return check_choice(self.name, value, self.choices)
        if self.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{self.name} must be an integer, got {value!r} ({type(value).__name__}).")
        check_number(self.name, value)
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"{self.name}={value} is outside the explorer's range {self.minimum:g}..{self.maximum:g}.")
        return value

    def as_dict(self) -> dict[str, object]:
        """Plain data for a renderer: name, label, kind, default, and the range or the choices."""
        if self.kind == "choice":
            return dict(name=self.name, label=self.label, kind="choice", default=self.default,
                        choices=list(self.choices))
        return dict(name=self.name, label=self.label, kind=self.kind, default=self.default, minimum=self.minimum,
                    maximum=self.maximum, step=self.step)


def defaults(controls: Sequence[Control]) -> dict[str, Any]:
    """The default value of every control."""
    return {c.name: c.default for c in controls}


def check_settings(controls: Sequence[Control], settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every control's value: from ``settings`` where given, else its default; unknown names are an error."""
    settings = dict(settings or {})
    names = [c.name for c in controls]
    unknown = sorted(set(settings) - set(names))
    if unknown:
        raise ValueError(f"unknown explorer setting(s) {unknown}; allowed: {names}.")
    return {c.name: c.check(settings.get(c.name, c.default)) for c in controls}


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> dict[str, list]:
    """A table as header labels and rows of preformatted cells."""
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"every row needs {len(columns)} cells (one per column {list(columns)}).")
    return {"columns": list(columns), "rows": [list(row) for row in rows]}


def colours() -> dict[str, Any]:
    """The colours a renderer of views needs, as plain data: ``series`` (index it by a segment's or a legend
    item's ``series``) and ``alert`` (an error message), both from :mod:`inception_lab.palette`."""
    return {"series": list(palette.CYCLE), "alert": palette.ALERT}


def segment(key: str, label: str, series: int, value: int | float) -> dict[str, object]:
    """One piece of a (stacked) bar: ``series`` picks its colour (:func:`colours`), ``value`` its length."""
    return {"key": key, "label": label, "series": series, "value": value}


def bar_panel(title: str, suffix: str, scale: float, bars: Sequence[tuple[str, Sequence[dict], str]], *,
              decimals: int = 1, marker: tuple[str, float] | None = None) -> dict[str, object]:
    """A panel of horizontal bars, with every length already computed.

    Args:
        title: what the bars measure (the axis label without its unit).
        suffix, scale: the unit shown on the bars: a value ``v`` reads ``f"{v / scale:,.{decimals}f}{suffix}"``.
        bars: ``(label, segments, note)`` per bar; segments from :func:`segment`, stacked left to right; ``note``
            is appended to the bar's text (a saving, say).
        marker: ``(label, value)`` of a reference line drawn across the panel (the output's size, say).

    Returns:
        ``title``, ``suffix``, ``scale``, ``bars`` (``label``, ``total``, ``text``, ``segments`` each with ``pct``:
        its length in % of the panel's extent) and ``marker`` (``label``, ``value``, ``pct``, ``text``) or ``None``.
        The extent is the longest bar or the marker, whichever is larger, so the longest reaches 100 %.
    """
    totals = [sum(s["value"] for s in segments) for _, segments, _ in bars]
    extent = max(totals + ([marker[1]] if marker else []) + [0])

    def pct(value: float) -> float:
        return round(100 * value / extent, 3) if extent else 0.0

    def text(value: float) -> str:
        return f"{value / scale:,.{decimals}f}{suffix}"

    out_bars = [{"label": label, "total": total, "text": text(total) + note,
                 "segments": [dict(s, pct=pct(s["value"])) for s in segments]}
                for (label, segments, note), total in zip(bars, totals, strict=True)]
    out_marker = None if marker is None else {"label": marker[0], "value": marker[1], "pct": pct(marker[1]),
                                              "text": text(marker[1])}
    return {"title": title, "suffix": suffix, "scale": scale, "bars": out_bars, "marker": out_marker}


__all__ = ["Control", "colours", "defaults", "check_settings", "table", "segment", "bar_panel"]
