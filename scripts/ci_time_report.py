"""Record what ``scripts/time_ci.sh`` measured: CI's stages from a fresh clone, each notebook, the book build.

Usage (``time_ci.sh`` calls it; by hand only to re-read a kept run):
    python scripts/ci_time_report.py LOG JUNIT_XML BOOK_SECONDS_FILE TOTAL_SECONDS STATUS LOAD_BEFORE LOAD_AFTER

Issue 22's targets: ``make test`` from a fresh clone, the install included, in at most 8 minutes; ``.ci/run`` in
at most 12. Reads the stage lines ``.ci/run`` prints (``== stage NAME: N s``), pytest's JUnit report (each
notebook's strict nbval time is the sum of its cells' times; under ``--dist loadfile`` one worker runs a whole
notebook), and the book build's duration (``tests/conftest.py`` writes it), and writes
``benchmarks/results/ci_time.json`` and ``.md`` with the machine and the load before and after.
"""

from __future__ import annotations

import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TARGETS_S = {"make test (venv + test stages)": 480, ".ci/run": 720}


def notebook_seconds(junit: Path) -> dict[str, float]:
    """Seconds of strict nbval per notebook, summed over its cells, from pytest's JUnit XML."""
    if not junit.is_file():
        return {}
    seconds: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("classname", "") + "::" + case.get("name", "")
        match = re.search(r"(\d\d_[\w-]+)\.ipynb", case.get("file", "") or name)
        if match:
            seconds[match.group(1)] += float(case.get("time", 0.0))
    return dict(sorted(seconds.items()))


def report(log: Path, junit: Path, book_file: Path, total_s: int, status: int, load: tuple[str, str]) -> dict:
    """The record of one timed CI run."""
    text = log.read_text(errors="replace") if log.is_file() else ""
    stages = {name: int(s) for name, s in re.findall(r"^== stage (\w+): (\d+) s$", text, flags=re.M)}
    summaries = re.findall(r"^=+ (.*(?:passed|failed).*) in [\d.]+s", text, flags=re.M)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?") if Path("/proc/cpuinfo").is_file() else "?"
    record = dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), status=status,
                  machine=dict(cpu_model=cpu, logical_cpus=os.cpu_count(), load_before=load[0], load_after=load[1]),
                  stages_s=stages, ci_run_s=total_s,
                  make_test_s=(stages["venv"] + stages["test"]) if {"venv", "test"} <= stages.keys() else None,
                  pytest_summaries=summaries, notebooks_nbval_s=notebook_seconds(junit),
                  book_build_s=float(book_file.read_text()) if book_file.is_file() else None, targets_s=TARGETS_S)
    return record


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = ["# CI from a fresh clone", "",
             f"Written by `bash scripts/time_ci.sh` on {r['date']}: {m['cpu_model']}, {m['logical_cpus']} logical "
             f"CPUs, load average before {m['load_before']}, after {m['load_after']}; `.ci/run` exit status "
             f"{r['status']}. Download caches (pip, Pyodide) as the machine had them.", "",
             "| measured | seconds | target |", "|---|---:|---:|"]
    lines.append(f"| `make test` from a fresh clone (venv + test stages) | {r['make_test_s']} | "
                 f"{TARGETS_S['make test (venv + test stages)']} |")
    lines.append(f"| `.ci/run` | {r['ci_run_s']} | {TARGETS_S['.ci/run']} |")
    lines += [f"| stage {name} | {s} | |" for name, s in r["stages_s"].items()]
    if r["book_build_s"] is not None:
        lines.append(f"| the book build (`jupyter-book build --all`, clean `_build`) | {r['book_build_s']:.0f} | |")
    lines += ["", "pytest: " + "; ".join(r["pytest_summaries"]), "", "Strict nbval per notebook (sum of its cells):",
              "", "| notebook | seconds |", "|---|---:|"]
    lines += [f"| {name} | {s:.1f} |" for name, s in r["notebooks_nbval_s"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 7:
        print(__doc__)
        return 2
    log, junit, book, total, status, before, after = argv
    record = report(Path(log), Path(junit), Path(book), int(total), int(status), (before, after))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ci_time.json").write_text(json.dumps(record, indent=1) + "\n")
    (RESULTS / "ci_time.md").write_text(markdown(record))
    print(markdown(record))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
