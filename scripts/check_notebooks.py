"""Execute chapter notebooks without comparing outputs; fail on any error cell (and on explorers without a widget).

Usage:
    python scripts/check_notebooks.py [--other-machine] [--require-widgets] [--workdir DIR] NOTEBOOK...

Strict nbval (``make test``) checks that a notebook reproduces its committed outputs on this machine. This script
checks what must hold everywhere else, where measured outputs differ: every cell runs without an error, so every
hidden ``assert`` behind a claim of the prose holds. It needs only ``nbformat`` and ``nbclient`` (and a Jupyter
kernel for this Python), so it also runs in the Colab-like environment of ``scripts/colab_like_check.sh``.

Options:
    --other-machine    run the kernel "as another machine": ``ATEN_CPU_CAPABILITY=default`` (ATen's generic,
                       unvectorised kernels: other rounding, as another processor has), ``ONEDNN_MAX_CPU_ISA=AVX2``
                       and ``INCEPTION_LAB_SEED=1`` (every seed shifted by 1: other data, weights, batch order).
                       Values already in the environment win, so ``INCEPTION_LAB_SEED=3`` tries another seed.
    --require-widgets  every explorer cell must display a widget (``application/vnd.jupyter.widget-view+json``).
                       An explorer cell is one tagged ``explorer`` or whose committed outputs hold a widget view.
    --workdir DIR      copy each notebook into DIR and run it there (as on Colab: no repository around it).

Prints one line per notebook with its execution time; exits 1 if any notebook failed.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sys
import time

import nbformat
from nbclient import NotebookClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: "Another machine": the generic ATen kernels, oneDNN capped at AVX2, and the next seed.
OTHER_MACHINE_ENV = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "AVX2", "INCEPTION_LAB_SEED": "1"}


def is_explorer(cell: nbformat.NotebookNode) -> bool:
    """A cell that shows an interactive explorer: tagged ``explorer``, or committed with a widget in its outputs."""
    if "explorer" in cell.get("metadata", {}).get("tags", []):
        return True
    return any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))


def shows_widget(cell: nbformat.NotebookNode) -> bool:
    return any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))


def code_cell_numbers(nb: nbformat.NotebookNode) -> dict[int, int]:
    """Cell index -> nbval's "Cell N" for it (code cells counted from 0); failures print both numbers."""
    return {i: n for n, i in enumerate(i for i, c in enumerate(nb.cells) if c.cell_type == "code")}


def check(path: pathlib.Path, require_widgets: bool, workdir: pathlib.Path | None, timeout: int) -> list[str]:
    """Execute one notebook; returns the problems found (empty when it passed)."""
    nb = nbformat.read(path, as_version=4)
    explorers = {i for i, c in enumerate(nb.cells) if c.cell_type == "code" and is_explorer(c)}
    run_dir = path.parent
    if workdir is not None:
        run_dir = workdir / path.stem
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, run_dir / path.name)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, record_timing=False,
                            resources={"metadata": {"path": str(run_dir)}})
    client.execute()
    numbers = code_cell_numbers(nb)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if out.output_type == "error":
                tags = ",".join(cell.metadata.get("tags", [])) or "no tags"
                problems.append(f"code cell {numbers[i]} (cell {i}, {tags}) raised {out.ename}: {out.evalue}\n"
                                f"    source: {cell.source.strip().splitlines()[0] if cell.source.strip() else ''}")
        if require_widgets and i in explorers and not shows_widget(cell):
            problems.append(f"code cell {numbers[i]} (cell {i}) is an explorer but displayed no widget ({WIDGET_VIEW} missing); "
                            f"outputs: {[out.get('data', {}).keys() or out.output_type for out in cell.outputs]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--other-machine", action="store_true", help="ATEN_CPU_CAPABILITY=default, another seed")
    parser.add_argument("--require-widgets", action="store_true", help="explorer cells must display a widget")
    parser.add_argument("--workdir", type=pathlib.Path, help="run copies of the notebooks in this folder")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args()
    if args.other_machine:
        for key, value in OTHER_MACHINE_ENV.items():
            os.environ.setdefault(key, value)  # the kernel inherits this process's environment
        print("as another machine: " + ", ".join(f"{k}={os.environ[k]}" for k in OTHER_MACHINE_ENV), flush=True)
    failed = 0
    for path in args.notebooks:
        start = time.perf_counter()
        problems = check(path.resolve(), args.require_widgets, args.workdir, args.timeout)
        status = "ok" if not problems else f"FAILED ({len(problems)} problem(s))"
        print(f"{path}: {status} in {time.perf_counter() - start:.1f} s", flush=True)
        for problem in problems:
            print("  " + problem, flush=True)
        failed += bool(problems)
    print(f"notebooks: {len(args.notebooks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
