"""Charts of what the chapters measure, each with the function that writes its alternative text.

* :func:`plot_gradient_maps` / :func:`describe_gradient_maps` -- measured receptive fields
  (:func:`inception_lab.experiments.receptive_field.gradient_map`), chapter 4.
* :func:`plot_knockout` / :func:`describe_knockout` -- accuracy lost per knocked-out branch
  (:func:`inception_lab.experiments.knockout.knockout_study`), chapter 7.
* :func:`plot_lab_results` / :func:`describe_lab_results` -- the lab's accuracy against parameters, MACs and time
  (:func:`inception_lab.experiments.runner.run_lab`), chapter 7; :func:`plot_lab_curves` /
  :func:`describe_lab_curves` -- test accuracy epoch by epoch; :func:`plot_paired_differences` /
  :func:`describe_paired_differences` -- each pair's differences seed by seed, with the verdict.

The experiments return plain results; everything drawn or written about them is here.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from inception_lab.checks import check_choice
from inception_lab.experiments.knockout import KnockoutResult
from inception_lab.experiments.receptive_field import GradientMap
from inception_lab.experiments.runner import LabResults
from inception_lab.palette import OKABE_ITO, series_colour
from inception_lab.viz.display import set_alt_text

TIME_KEYS = ("cpu_time_s", "wall_time_s")


# --- receptive fields (chapter 4) -----------------------------------------------------------------------------------
def plot_gradient_maps(maps: dict[str, GradientMap], boxes: dict[str, Sequence[float]] | None = None,
                       panel_size: float = 2.4, crop: int | None = None) -> Figure:
    """Gradient maps side by side, each with its exact window drawn as a rectangle (``boxes``: name -> box).

    The figure carries :func:`describe_gradient_maps` as its alternative text.

    Args:
        crop: show only ``crop`` pixels around each map's output position (default: the whole input).
    """
    fig, axes = plt.subplots(1, len(maps), figsize=(panel_size * len(maps), panel_size + 0.4), squeeze=False)
    for ax, (name, gmap) in zip(axes[0], maps.items(), strict=True):
        image = gmap.magnitude
        offset = (0, 0)
        if crop is not None:
            r, c = gmap.position
            half = crop // 2
            offset = (max(r - half, 0), max(c - half, 0))
            image = image[offset[0]:offset[0] + crop, offset[1]:offset[1] + crop]
        ax.imshow(image, cmap="magma", vmin=0, vmax=1)
        if boxes and name in boxes:
            top, bottom, left, right = boxes[name]
            ax.add_patch(Rectangle((left - 0.5 - offset[1], top - 0.5 - offset[0]), right - left + 1,
                                   bottom - top + 1, fill=False, edgecolor=OKABE_ITO["sky blue"], linewidth=1.5))
        h, w = gmap.size
        ax.set_title(f"{name}\nnon-zero: {h}x{w}", fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return set_alt_text(fig, describe_gradient_maps(maps, boxes, crop))


def describe_gradient_maps(maps: dict[str, GradientMap], boxes: dict[str, Sequence[float]] | None = None,
                           crop: int | None = None) -> str:
    """Alternative text for :func:`plot_gradient_maps`: each map's non-zero area and whether it fills its window."""
    parts = []
    for name, gmap in maps.items():
        h, w = gmap.size
        part = f"{name}: non-zero gradient on {h} x {w} pixels"
        if boxes and name in boxes:
            top, bottom, left, right = boxes[name]
            window = f"{int(bottom - top + 1)} x {int(right - left + 1)}"
            part += (", exactly the computed window" if gmap.box is not None and tuple(gmap.box) == tuple(boxes[name])
                     else f", the computed window is {window}")
        parts.append(part)
    view = f"a {crop} x {crop} crop around the output position" if crop is not None else "the whole input"
    return (f"{len(parts)} heat maps side by side of the input-gradient magnitude of one output position "
            f"({view}; bright = large), each with its computed receptive-field window outlined: "
            + "; ".join(parts) + ".")


# --- branch knock-out (chapter 7) ------------------------------------------------------------------------------------
def plot_knockout(result: KnockoutResult, ax: Any = None, *, vmax: float | None = None, annotate: bool = True) -> Any:
    """Heat map of the accuracy drops: one row per module (forward order), one column per branch position.

    Each cell shows the drop in accuracy points and, small, the branch's label; blank cells are branches a
    module does not have. A new figure (``ax`` None) gets :func:`describe_knockout` as its alternative text.
    Returns the matplotlib ``Axes``.
    """
    drops = np.array([[np.nan if d is None else 100 * d for d in row] for row in result.matrix()], dtype=float)
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.9 * result.max_branches + 1.5, 0.45 * len(result.modules) + 1.2))
        set_alt_text(fig, describe_knockout(result))
    top = vmax if vmax is not None else max(1.0, float(np.nanmax(drops)))
    image = ax.imshow(np.ma.masked_invalid(drops), cmap="Reds", vmin=0.0, vmax=top, aspect="auto")
    ax.set_yticks(range(len(result.modules)), result.modules, fontsize=8)
    ax.set_xticks(range(result.max_branches), [f"branch {i + 1}" for i in range(result.max_branches)], fontsize=8)
    ax.set_title(f"{result.model}: accuracy lost when one branch is {_ablated(result)} (points; baseline "
                 f"{100 * result.baseline:.1f} %)", fontsize=9)
    if annotate:
        for i, module in enumerate(result.modules):
            for j, branch in enumerate(result.branches[module]):
                d = drops[i, j]
                colour = "white" if d > 0.6 * top else "black"
                ax.text(j, i - 0.12, f"{d:.1f}", ha="center", va="center", fontsize=8, color=colour)
                ax.text(j, i + 0.25, result.labels[module][branch], ha="center", va="center", fontsize=5.5,
                        color=colour)
    ax.figure.colorbar(image, ax=ax, label="accuracy drop [points]", shrink=0.8)
    return ax


def _ablated(result: KnockoutResult) -> str:
    return "zeroed" if result.ablation == "zero" else "replaced by its mean"


def describe_knockout(result: KnockoutResult, largest: int = 3) -> str:
    """Alternative text for :func:`plot_knockout`: the grid's size, the largest drops and how many barely matter."""
    ranked = result.ranked()
    top = "; ".join(f"{m} {result.labels[m][b]} ({100 * d:.1f} points)" for m, b, d in ranked[:largest])
    small = sum(1 for *_, d in ranked if round(100 * d, 1) <= 1.0)
    return (f"Heat map of the accuracy {result.model} loses when one branch is {_ablated(result)} (baseline "
            f"{100 * result.baseline:.1f} % on {result.examples} test images): one row per module "
            f"({', '.join(result.modules)}), one column per branch, darker red for a larger drop. Largest drops: "
            f"{top}. {small} of the {len(ranked)} knock-outs cost 1 point or less.")


# --- the lab (chapter 7) ---------------------------------------------------------------------------------------------
def plot_lab_results(results: LabResults, time_key: str = "cpu_time_s", axes: Any = None) -> Any:
    """Final test accuracy against parameters, MACs per image and training time: one point per run, one colour
    per preset, the mean of each preset as a larger marker with a bar over its range of seeds.

    Args:
        time_key: ``"cpu_time_s"`` (the process's CPU time: robust on a shared machine) or ``"wall_time_s"``.
        axes: three matplotlib ``Axes`` (default: a new 1 x 3 figure, with :func:`describe_lab_results` as its
            alternative text).

    Returns:
        The three ``Axes``.
    """
    check_choice("time_key", time_key, TIME_KEYS)
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
        set_alt_text(fig, describe_lab_results(results, time_key))
    xlabels = {"params": "parameters", "macs": "MACs per 32x32 image",
               time_key: f"training time per run [s, {'CPU' if time_key == 'cpu_time_s' else 'wall'}]"}
    for colour, name in enumerate(results.presets):
        runs = [r for r in results.runs if r.preset == name]
        accs = [100 * r.test_acc for r in runs]
        mean = statistics.fmean(accs)
        for ax, key in zip(axes, xlabels, strict=True):
            xs = [getattr(r, key) for r in runs]
            ax.scatter(xs, accs, color=series_colour(colour), alpha=0.45, s=18)
            ax.errorbar([statistics.fmean(xs)], [mean], yerr=[[mean - min(accs)], [max(accs) - mean]],
                        color=series_colour(colour), marker="o", markersize=8, capsize=4, label=name)
    for ax, label in zip(axes, xlabels.values(), strict=True):
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("final test accuracy [%]")
    axes[0].legend(fontsize=8)
    return axes


def describe_lab_results(results: LabResults, time_key: str = "cpu_time_s") -> str:
    """Alternative text for :func:`plot_lab_results`: each preset's accuracy over its seeds and its costs."""
    check_choice("time_key", time_key, TIME_KEYS)
    parts = [f"{s.preset}: mean {100 * s.mean_acc:.1f} % (seeds {100 * s.min_acc:.1f} to {100 * s.max_acc:.1f} %), "
             f"{s.params:,} parameters, {s.macs:,} MACs, "
             f"{s.mean_cpu_time_s if time_key == 'cpu_time_s' else s.mean_wall_time_s:.0f} s"
             for s in results.summary()]
    return (f"Three scatter charts sharing one axis, final test accuracy, against parameters, MACs per image and "
            f"training time ({'CPU' if time_key == 'cpu_time_s' else 'wall'}); one colour per preset, one small "
            f"dot per seed ({len(results.seeds)} seeds) and the mean with a bar over the seeds' range. "
            + "; ".join(parts) + ".")


def plot_lab_curves(results: LabResults, labels: dict[str, str] | None = None, ax: Any = None) -> Any:
    """Test accuracy after every epoch: per preset the mean over the seeds as a line, the seeds' range as a band.

    ``labels``: preset -> the name to show (default: the preset names). A new figure (``ax`` None) gets
    :func:`describe_lab_curves` as its alternative text. Returns the ``Axes``.
    """
    labels = labels or {}
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 3.8))
        set_alt_text(fig, describe_lab_curves(results, labels))
    for colour, name in enumerate(results.presets):
        curves = np.array([r.test_acc_curve for r in results.runs if r.preset == name], dtype=float) * 100
        epochs = np.arange(1, curves.shape[1] + 1)
        ax.fill_between(epochs, curves.min(0), curves.max(0), color=series_colour(colour), alpha=0.18, linewidth=0)
        ax.plot(epochs, curves.mean(0), color=series_colour(colour), label=labels.get(name, name))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy [%]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def describe_lab_curves(results: LabResults, labels: dict[str, str] | None = None) -> str:
    """Alternative text for :func:`plot_lab_curves`: each preset's mean accuracy at the first, a middle and the last
    epoch."""
    labels = labels or {}
    parts = []
    for name in results.presets:
        curves = np.array([r.test_acc_curve for r in results.runs if r.preset == name], dtype=float) * 100
        n = curves.shape[1]
        marks = sorted({1, max(1, n // 4), max(1, n // 2), n})
        parts.append(f"{labels.get(name, name)}: " + ", ".join(f"epoch {e} {curves[:, e - 1].mean():.1f} %"
                                                               for e in marks))
    return (f"Line chart of mean test accuracy over {len(results.seeds)} seeds against the epoch, one line per "
            f"preset with a band over the seeds' range. " + "; ".join(parts) + ".")


def plot_paired_differences(results: LabResults, labels: dict[str, str] | None = None, ax: Any = None) -> Any:
    """Every pair of presets (:meth:`~inception_lab.experiments.runner.LabResults.comparisons`): one dot per seed for
    its paired difference in points, the 95 % bootstrap interval of the mean as a bar; findings in dark blue, the
    rest in light blue.

    A new figure (``ax`` None) gets :func:`describe_paired_differences` as its alternative text. Returns the ``Axes``.
    """
    labels = labels or {}
    pairs = results.comparisons()
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(pairs) + 1.2))
        set_alt_text(fig, describe_paired_differences(results, labels))
    for row, c in enumerate(pairs):
        colour = OKABE_ITO["blue"] if c.finding else OKABE_ITO["sky blue"]
        lo, hi = (100 * v for v in c.interval)
        ax.plot([lo, hi], [row, row], color=colour, linewidth=3, alpha=0.6, solid_capstyle="butt")
        ax.scatter([100 * d for d in c.differences], [row] * c.n, color=colour, s=18, zorder=3)
        ax.plot([100 * c.mean], [row], marker="|", markersize=14, color=OKABE_ITO["black"])
    ax.axvline(0, color=OKABE_ITO["black"], linewidth=0.8)
    ax.set_yticks(range(len(pairs)), [f"{labels.get(c.a_name, c.a_name)} - {labels.get(c.b_name, c.b_name)}"
                                      for c in pairs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("paired difference in final test accuracy [points], one dot per seed")
    ax.grid(alpha=0.3, axis="x")
    return ax


def describe_paired_differences(results: LabResults, labels: dict[str, str] | None = None) -> str:
    """Alternative text for :func:`plot_paired_differences`: each pair's mean, interval, sign count and verdict."""
    labels = labels or {}
    parts = [f"{labels.get(c.a_name, c.a_name)} minus {labels.get(c.b_name, c.b_name)}: mean {100 * c.mean:+.1f} "
             f"points, interval {100 * c.interval[0]:+.1f} to {100 * c.interval[1]:+.1f}, {c.agreeing} of {c.n} "
             f"seeds agree, p = {c.p_value:.3f}, {'a finding' if c.finding else 'not a finding'}"
             for c in results.comparisons()]
    return ("Dot chart, one row per pair of presets: each seed's paired difference in final test accuracy as a dot, "
            "the 95 % bootstrap interval of the mean difference as a bar, zero as a vertical line. "
            + "; ".join(parts) + ".")
