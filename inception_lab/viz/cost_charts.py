"""Charts of the cost explorers: one function draws a view, for the ipywidgets explorer and its static twin alike.

A cost explorer's entry point (``explorer_view`` in :mod:`inception_lab.cost.inception`,
:mod:`~inception_lab.cost.factorization`, :mod:`~inception_lab.cost.grid_reduction`) returns a *view*, plain data
(:mod:`inception_lab.cost.view`). :func:`plot_view` draws it with matplotlib: the explorer calls it on every slider
move, and a chapter's static twin is ``show(plot_view(explorer_view(defaults)))``, so the book's figure is the
explorer's figure. Colours come from the view's ``series`` through :func:`inception_lab.cost.view.colours`, the same
call that gives the live explorer in the browser its colours; the alt text is the view's own.
:func:`plot_sweep` draws chapter 4's saving over every kernel side, in the explorer's colour of each variant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from inception_lab.cost import factorization
from inception_lab.cost.view import colours
from inception_lab.viz.display import set_alt_text


def view_colours(view: Mapping[str, Any]) -> dict[str, str]:
    """The colour of every bar segment of ``view`` by its key (a branch, a variant, a strategy)."""
    series = colours()["series"]
    return {seg["key"]: series[seg["series"]] for panel in view["charts"] for bar in panel["bars"]
            for seg in bar["segments"]}


def plot_view(view: Mapping[str, Any]) -> Figure:
    """A view's bar panels side by side, with the view's title and alt text.

    Stacked segments take the colour of their ``series`` (each rectangle's ``gid`` is its segment's key), each
    bar's text sits at its end, the marker (if any) is a dashed line, and a legend names the pieces of stacked bars.
    """
    series = colours()["series"]
    charts = view["charts"]
    if not charts:
        raise ValueError(f"this view has no charts to draw ({view.get('error') or 'no bars'}).")
    n_bars = max(len(panel["bars"]) for panel in charts)
    fig, axes = plt.subplots(1, len(charts), figsize=(5 * len(charts), 0.9 + 0.6 * n_bars), squeeze=False)
    for ax, panel in zip(axes[0], charts, strict=True):
        scale = panel["scale"]
        labels = [bar["label"] for bar in panel["bars"]]
        for y, bar in enumerate(panel["bars"]):
            left = 0.0
            for seg in bar["segments"]:
                drawn = ax.barh(y, seg["value"] / scale, left=left, color=series[seg["series"]])
                drawn.patches[0].set_gid(seg["key"])
                left += seg["value"] / scale
            ax.text(left, y, " " + bar["text"], va="center", fontsize=8)
        extent = max([bar["total"] for bar in panel["bars"]] + [panel["marker"]["value"] if panel["marker"] else 0])
        if panel["marker"]:
            ax.axvline(panel["marker"]["value"] / scale, color="#333333", linestyle="--", linewidth=0.8)
            ax.text(panel["marker"]["value"] / scale, len(labels) - 0.45, " " + panel["marker"]["label"], fontsize=7,
                    va="bottom")
        ax.set_yticks(range(len(labels)), labels if ax is axes[0][0] else [""] * len(labels))
        ax.invert_yaxis()
        ax.set_xlim(0, extent / scale * 1.6 or 1)
        ax.set_xlabel(f"{panel['title']} [{panel['suffix']}]")
    fig.suptitle(view["title"], fontsize=10)
    if any(len(bar["segments"]) > 1 for bar in charts[0]["bars"]):  # stacked bars: say what the pieces are
        handles = [plt.Rectangle((0, 0), 1, 1, color=series[item["series"]]) for item in view["legend"]]
        fig.legend(handles, [item["label"] for item in view["legend"]], loc="lower center",
                   ncol=len(handles), fontsize=8, frameon=False)
        fig.set_figheight(fig.get_figheight() + 0.4)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    else:
        fig.tight_layout()
    return set_alt_text(fig, view["alt"]) if view.get("alt") else fig


def plot_sweep(rows: Sequence[dict], title: str | None = None) -> Figure:
    """MACs saved against ``n x n`` over n, per variant (the rows of :func:`~inception_lab.cost.factorization.sweep_n`).

    Each variant's line has its colour in the chapter-4 explorer (:func:`view_colours` of its default view).
    """
    colour = view_colours(factorization.explorer_view())
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    lines = []
    for variant in ("asymmetric", "stacked"):
        points = [(r["n"], 100 * r["macs_saving"]) for r in rows if r["variant"] == variant]
        if points:
            name = next(r["name"] for r in rows if r["variant"] == variant)
            ns, saved = zip(*points, strict=True)
            ax.plot(ns, saved, "o-", color=colour[variant], label=name, gid=variant)
            lines.append(f"{name} saves " + ", ".join(f"{s:.0f} % at n = {n}" for n, s in points))
    ns = sorted({r["n"] for r in rows})
    ax.plot(ns, [100 * (1 - 2 / n) for n in ns], ":", color="#999999", label="1 - 2/n (equal widths)")
    ax.set_xlabel("kernel side n")
    ax.set_ylabel("MACs saved vs n x n [%]")
    ax.set_ylim(-5, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return set_alt_text(fig, "Line chart of the MACs saved against one n x n convolution over the kernel side n: "
                        + "; ".join(lines) + "; a dotted line shows 1 - 2/n, the saving at equal widths.")
