"""The book's live cost explorers in headless Chromium: how long Pyodide takes to start, how fast a slider updates.

Usage:
    python benchmarks/bench_live_explorers.py [--updates 40] [--html _build/html]

The built book (``--html``; built with ``jupyter-book build . -W --keep-going --all`` first when it has no
``_live/pyodide``) is served on a loopback HTTP server and opened in Debian's Chromium (Playwright, headless). For
each live explorer (chapters 1, 4, 5), in a fresh browser context, i.e. with an empty cache:

* **load**: from the click on "Run live" to the explorer being ready (Pyodide's core fetched and started, the
  formula layer fetched and imported, the first view drawn), measured with ``performance.now()`` in the page;
* **update**: ``--updates`` slider moves to random values on the slider's grid (seed 0), cycling through the
  sliders; each is timed in the page from dispatching the ``input`` event to the end of a forced layout after the
  handler: the JSON call into Python, the view's JSON parsed, the table and bars redrawn, the page laid out.

Also recorded: the size of the built site with and without the Pyodide core, the machine and the load average.
Writes ``benchmarks/results/live_explorers.json`` (every number) and ``benchmarks/results/live_explorers.md``.
Takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from inception_lab.cost import explorers
from inception_lab.runtime import load_average, machine_receipt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from serve_book import serve  # noqa: E402  (the loopback server the browser tests use too)

RESULTS = Path(__file__).resolve().parent / "results"
PAGES = {"inception-module": "notebooks/01_inception_module.html", "factorization": "notebooks/04_factorization.html",
         "grid-reduction": "notebooks/05_grid_reduction.html"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

TIMED_UPDATE = """([id, value]) => {
    const field = document.getElementById(id);
    const start = performance.now();
    field.value = value;
    field.dispatchEvent(new Event('input', {bubbles: true}));
    document.body.offsetHeight;  // force the layout of what the handler drew
    return performance.now() - start;
}"""


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def slider_values(name: str, updates: int, rng: random.Random) -> list[tuple[str, str]]:
    """``updates`` (slider id, value) pairs: the explorer's sliders in turn, each set to a random value of its grid."""
    sliders = [c for c in explorers.EXPLORERS[name][0] if c.kind != "choice"]
    moves = []
    for i in range(updates):
        c = sliders[i % len(sliders)]
        steps = round((c.maximum - c.minimum) / c.step)
        value = c.minimum + rng.randint(0, steps) * c.step
        moves.append((f"il-live-{name}-{c.name}", f"{round(value, 6):g}"))
    return moves


def measure(html: Path, updates: int) -> dict:
    from playwright.sync_api import sync_playwright

    rng = random.Random(0)
    per_explorer = {}
    with serve(html) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        version = browser.version
        for name, page_path in PAGES.items():
            context = browser.new_context()  # an empty cache: the reader's first visit
            page = context.new_page()
            page.goto(f"{base}/{page_path}")
            page.wait_for_selector('.il-live[data-state="idle"]')
            page.evaluate("() => { window.__ilStart = performance.now(); "
                          "document.querySelector('.il-live-run').click(); }")
            page.wait_for_selector('.il-live[data-state="ready"]', timeout=300_000)
            load_ms = page.evaluate("() => performance.now() - window.__ilStart")
            times, moves = [], slider_values(name, updates, rng)
            for slider_id, value in moves:
                times.append(page.evaluate(TIMED_UPDATE, [slider_id, value]))
            shown = page.eval_on_selector_all(".il-live-table tbody tr",
                                              "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")
            settings = dict(explorers.view(name)["settings"])  # check: the page shows what Python computes
            for slider_id, value in moves:
                key = slider_id.removeprefix(f"il-live-{name}-")
                settings[key] = float(value) if "." in value else int(value)
            assert shown == (explorers.view(name, settings).get("table") or {"rows": []})["rows"], (name, shown)
            per_explorer[name] = dict(load_ms=round(load_ms, 1), updates=len(times),
                                      update_ms_median=round(statistics.median(times), 2),
                                      update_ms_max=round(max(times), 2), update_ms_all=[round(t, 2) for t in times])
            context.close()
        browser.close()
    return dict(chromium=version, explorers=per_explorer)


def summary_md(result: dict) -> str:
    s, m = result["site"], result["machine"]
    lines = ["# Live cost explorers: Pyodide start-up and slider-update latency in headless Chromium", "",
             f"Written by `benchmarks/bench_live_explorers.py` on {result['date']}: Chromium {result['chromium']} "
             f"(headless, Playwright), Pyodide {result['pyodide']}; {m['cpu_model']}, {m['logical_cpus']} logical "
             f"CPUs, {m['platform']}; load average before / after: {m['load_average_before']} / "
             f"{m['load_average']}.", "",
             "Load: click on \"Run live\" to the explorer ready, with an empty browser cache (core fetched from a "
             "loopback server, started, formula layer imported, first view drawn). Update: one slider move, from "
             "the `input` event to the end of the forced layout after the redraw (Python call included); "
             f"{result['updates']} moves per explorer to random values (seed 0).", "",
             "| explorer | load [s] | update median [ms] | update max [ms] | updates |", "|---|---:|---:|---:|---:|"]
    for name, r in result["explorers"].items():
        lines.append(f"| {name} | {r['load_ms'] / 1000:.2f} | {r['update_ms_median']:.1f} | {r['update_ms_max']:.1f} "
                     f"| {r['updates']} |")
    lines += ["", "| built site | MB |", "|---|---:|",
              f"| with the Pyodide core | {s['with_core_bytes'] / 1e6:.1f} |",
              f"| without it (`_live/pyodide/`, {s['core_bytes'] / 1e6:.1f} MB) | "
              f"{s['without_core_bytes'] / 1e6:.1f} |",
              f"| of which the formula layer (`_live/py/`) | {s['formula_layer_bytes'] / 1e6:.3f} |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=40, help="slider moves per explorer")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="the built book")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("Chromium is needed (apt-get install chromium).")
    if not (args.html / "_live" / "pyodide" / "pyodide.asm.wasm").is_file():
        jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run([jb, "build", str(ROOT), "-W", "--keep-going", "--all"], check=True, env=env)
        if not (args.html / "_live" / "pyodide" / "pyodide.asm.wasm").is_file():
            raise SystemExit("the book was built without the Pyodide core (see the build log): nothing to measure.")
    load_before = load_average()
    measured = measure(args.html, args.updates)
    manifest = json.loads((args.html / "_live" / "py" / "manifest.json").read_text())
    total, core = folder_bytes(args.html), folder_bytes(args.html / "_live" / "pyodide")
    result = dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d"), pyodide=manifest["pyodide"],
                  updates=args.updates, chromium=measured["chromium"], explorers=measured["explorers"],
                  site=dict(with_core_bytes=total, core_bytes=core, without_core_bytes=total - core,
                            formula_layer_bytes=folder_bytes(args.html / "_live" / "py")),
                  machine=dict(machine_receipt(), load_average_before=load_before))  # its load_average: at the end
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "live_explorers.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "live_explorers.md").write_text(summary_md(result))
    print(summary_md(result))


if __name__ == "__main__":
    main()
