"""Grade a folder of submitted notebooks against a chapter's autograder zip, without Docker; write a CSV of scores.

Usage (from the repository root, in an environment with the `classroom` extra):
    python scripts/grade_submissions.py AUTOGRADER_ZIP SUBMISSIONS_DIR [--csv scores.csv] [--timeout 900]

Each ``*.ipynb`` in SUBMISSIONS_DIR is graded by ``otter run`` (Otter-Grader's local grading: the notebook is
executed top to bottom in this environment, then the autograder's tests run against what it defined) in a process
of its own, so that a submission that hangs or crashes costs its own row only. Otter's report for each
submission (``results.json``, Gradescope's format, with every test's output) lands in ``<csv stem>-results/``.

The CSV has one row per submission: ``file``, one column per auto-graded question (points scored), ``total``,
``possible``, ``percent``, and ``error`` (empty, or why the submission could not be graded: it then scores 0).
Questions graded by hand are not in it; add their points from the rubric (``assignments/dist/NN/rubric.md``).
"""

from __future__ import annotations

import argparse
import csv
import json
import pathlib
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor


def question_points(autograder: pathlib.Path) -> dict[str, float]:
    """Points of each auto-graded question, from the test files inside the autograder zip (in their order)."""
    points: dict[str, float] = {}
    with zipfile.ZipFile(autograder) as archive:
        for name in sorted(n for n in archive.namelist() if n.startswith("tests/") and n.endswith(".py")):
            text = archive.read(name).decode("utf-8")
            total = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("points ="))
            points[pathlib.PurePosixPath(name).stem] = float(total)
    if not points:
        raise ValueError(f"{autograder} holds no tests/*.py: is it an Otter autograder zip?")
    return points


def grade_one(notebook: pathlib.Path, autograder: pathlib.Path, report_dir: pathlib.Path,
              timeout: float, debug: bool = False) -> tuple[dict[str, float], str, float]:
    """Scores per question of one submission (``otter run``), an error message ('' if graded), and seconds taken.

    With ``debug``, a cell that raises stops the run (the submission is then not graded) instead of being skipped.
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(autograder), "-o", str(report_dir),
               *(["--debug"] if debug else []), str(notebook)]
    start = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {}, f"not graded: otter run took more than {timeout:g} s", time.perf_counter() - start
    seconds = time.perf_counter() - start
    (report_dir / "otter-run.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    report = report_dir / "results.json"
    if result.returncode != 0 or not report.is_file():
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return {}, f"not graded: otter run exited with {result.returncode} ({last[0][:200]})", seconds
    tests = json.loads(report.read_text(encoding="utf-8"))["tests"]
    return {t["name"]: float(t["score"]) for t in tests if "score" in t}, "", seconds


def grade_folder(autograder: pathlib.Path, submissions: pathlib.Path, csv_path: pathlib.Path,
                 timeout: float = 900, debug: bool = False, jobs: int = 1) -> list[dict[str, object]]:
    """Grade every notebook in ``submissions``, ``jobs`` at a time; write and return the rows of the CSV."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    points = question_points(autograder)
    notebooks = sorted(submissions.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no .ipynb file in {submissions}")
    reports = csv_path.with_name(csv_path.stem + "-results")
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each job waits on its own `otter run` process
        graded = list(pool.map(lambda nb: grade_one(nb, autograder, reports / nb.stem, timeout, debug), notebooks))
    rows = []
    for notebook, (scores, error, seconds) in zip(notebooks, graded, strict=True):
        row: dict[str, object] = {"file": notebook.name}
        row.update({name: scores.get(name, 0.0) for name in points})
        total, possible = sum(scores.get(name, 0.0) for name in points), sum(points.values())
        row.update(total=total, possible=possible, percent=round(100 * total / possible, 1), error=error)
        rows.append(row)
        print(f"{notebook.name}: {total:g} / {possible:g}{'  ' + error if error else ''} ({seconds:.0f} s)",
              flush=True)
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("autograder", type=pathlib.Path, help="the chapter's *-autograder_*.zip")
    parser.add_argument("submissions", type=pathlib.Path, help="a folder of submitted .ipynb files")
    parser.add_argument("--csv", type=pathlib.Path, default=None, help="default: SUBMISSIONS/../scores.csv")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per submission (default 900)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at the same time (default 1)")
    parser.add_argument("--debug", action="store_true",
                        help="a notebook with a cell that raises is not graded (to check reference notebooks)")
    args = parser.parse_args()
    try:
        import otter  # noqa: F401  (the classroom extra)
    except ImportError:
        sys.exit("otter-grader is not installed: pip install -c constraints.txt -e '.[classroom]'")
    if not args.autograder.is_file():
        sys.exit(f"{args.autograder}: no such autograder zip (make assignments writes assignments/dist/NN/autograder/)")
    csv_path = args.csv or args.submissions.resolve().parent / "scores.csv"
    grade_folder(args.autograder, args.submissions, csv_path, args.timeout, args.debug, args.jobs)
    print(f"scores: {csv_path}")


if __name__ == "__main__":
    main()
