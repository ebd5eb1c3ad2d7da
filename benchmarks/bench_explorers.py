"""How fast the cost explorers answer a slider: the Jupyter (ipywidgets) explorers, next to the live ones in the book.

Usage:
    python benchmarks/bench_explorers.py [--moves 40] [--seed 0]

For each ipywidgets cost explorer of chapters 1, 4 and 5 (:mod:`inception_lab.widgets`), ``--moves`` slider moves to
random values in the slider's range (seeded); an update is timed from setting the slider's ``value`` (the same
``observe`` callback a reader's drag triggers) to the end of the redraw: the view recomputed, the table's HTML set,
the matplotlib figure drawn to its PNG (``fig.canvas.draw()``, what Jupyter's inline backend then encodes). The
kernel-to-browser round trip of a real Jupyter front end is not included (it depends on the front end, not on us).

The live explorers' numbers (Pyodide in headless Chromium) are read from ``benchmarks/results/live_explorers.json``
(written by ``bench_live_explorers.py``), so ``benchmarks/results/explorers.md`` holds one table of both. Writes
``benchmarks/results/explorers.{json,md}`` with the machine receipt. A few seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import inception_lab  # noqa: E402
from inception_lab.runtime import machine_receipt  # noqa: E402
from inception_lab.widgets.factorization import FactorizationExplorer  # noqa: E402
from inception_lab.widgets.grid_reduction import GridReductionExplorer  # noqa: E402
from inception_lab.widgets.inception_module import InceptionExplorer  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: Explorer name (as in live_explorers.json) -> the ipywidgets class.
EXPLORERS = {"inception-module": InceptionExplorer, "factorization": FactorizationExplorer,
             "grid-reduction": GridReductionExplorer}


def time_moves(explorer, moves: int, rng: random.Random) -> list[float]:
    """Milliseconds per slider move, each to a new random value of a random integer slider (the float split
    slider of chapter 5 and its selects are left alone)."""
    sliders = [s for s in explorer.sliders.values() if isinstance(s, W.IntSlider)]
    times = []
    for _ in range(moves):
        slider = rng.choice(sliders)
        values = [v for v in range(slider.min, slider.max + 1, slider.step or 1) if v != slider.value]
        start = time.perf_counter()
        try:
            slider.value = rng.choice(values)  # observe -> update(): view, table, figure
            explorer.figure.canvas.draw()
        except ValueError:  # a setting the explorer refuses (shown as an error line in the page): still a redraw
            pass
        times.append(1000 * (time.perf_counter() - start))
        plt.close("all")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    widgets = {}
    for name, cls in EXPLORERS.items():
        explorer = cls()
        time_moves(explorer, 3, rng)  # warm-up: first draws load fonts and caches
        ms = time_moves(explorer, args.moves, rng)
        widgets[name] = dict(update_ms_median=round(statistics.median(ms), 1), update_ms_max=round(max(ms), 1),
                             moves=args.moves, update_ms_all=[round(t, 2) for t in ms])
    live_file = RESULTS / "live_explorers.json"
    live = json.loads(live_file.read_text())["explorers"] if live_file.exists() else {}
    record = dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), library=inception_lab.__version__,
                  machine=machine_receipt(), matplotlib=matplotlib.__version__, ipywidgets=_version("ipywidgets"),
                  command="python benchmarks/bench_explorers.py "
                          + " ".join(f"--{k} {v}" for k, v in vars(args).items()),
                  widgets=widgets)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "explorers.json").write_text(json.dumps(record, indent=1) + "\n")
    lines = ["# The cost explorers: time from a slider move to the redrawn chart", "",
             f"Written by `benchmarks/bench_explorers.py` on {record['date']} (inception_lab {record['library']}); "
             f"{record['machine'].get('cpu_model', '?')}, {record['machine'].get('logical_cpus', '?')} logical CPUs, "
             f"load average {record['machine'].get('load_average', '?')}; matplotlib {record['matplotlib']}, "
             f"ipywidgets {record['ipywidgets']}.", "",
             "Jupyter: the ipywidgets explorer in the kernel, from setting a slider to the figure drawn (view, table, "
             "chart; the front end's round trip not included), "
             f"{args.moves} random moves. Live: the same view in the rendered book (Pyodide in headless Chromium, "
             "from the `input` event to the end of the forced layout; `live_explorers.md`).", "",
             "| explorer | Jupyter median [ms] | Jupyter max [ms] | live median [ms] | live max [ms] | live load [s] |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, w in widgets.items():
        lv = live.get(name, {})
        live_cells = (f"{lv['update_ms_median']:.1f} | {lv['update_ms_max']:.1f} | {lv['load_ms'] / 1000:.2f}"
                      if lv else "– | – | –")
        lines.append(f"| {name} | {w['update_ms_median']:.1f} | {w['update_ms_max']:.1f} | {live_cells} |")
    (RESULTS / "explorers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
