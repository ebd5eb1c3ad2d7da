"""Classroom grading with Otter-Grader, without Docker: for every chapter's assignment, `otter run` gives the
reference solutions full marks, the untouched student notebook zero on every auto-graded question, and a notebook
with one typical mistake (one the checker's hints know) loses exactly that question's points, with the hint as the
failure message.

Needs otter-grader (the `classroom` extra, which `make` installs): marked `classroom`, so `make test` leaves it
out and `make classroom-check` runs it; skipped where otter is not installed. Each graded notebook is executed top
to bottom (about 30-120 s per chapter here), three per chapter; `CLASSROOM_CHAPTERS=01,04` grades those chapters
only (every chapter is still checked to have a mistake to grade).
"""

from __future__ import annotations

import csv
import json
import os
import pathlib

import nbformat
import pytest
from conftest import load_module

pytest.importorskip("otter")
pytestmark = pytest.mark.classroom

ROOT = pathlib.Path(__file__).resolve().parents[1]
ALL_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
_CHOSEN = {c.strip().zfill(2) for c in os.environ.get("CLASSROOM_CHAPTERS", "").split(",") if c.strip()}
NOTEBOOKS = [p for p in ALL_NOTEBOOKS if not _CHOSEN or p.name[:2] in _CHOSEN]

#: One typical mistake per chapter: (question, code that replaces the reference's answer, a phrase of the hint the
#: chapter's checker gives for it). Numbers, a function and a pair of names, as the exercises ask for them.
MISTAKES = {
    "01_inception_module": ("branch3_macs", "answer_branch3_macs = 28 * 28 * 32 * 16 * 5 * 5",
                            "the 5x5 convolution alone"),
    "02_googlenet": ("training_params", "answer_training_params = sum(p.numel() for p in full.aux1.parameters())",
                     "head on (4a) alone"),
    "03_bn_inception": ("fold", "def fold(weight, gamma, beta, mean, var, eps):\n"
                                "    scale = gamma / torch.sqrt(var)\n"
                                "    return weight * scale[:, None, None, None], beta - scale * mean",
                        "ignores eps"),
    "04_factorization": ("stack_field", "answer_stack_field = 1 + 2 * 3 + 2 + 6", "2 input pixels apart"),
    "05_grid_reduction": ("fig9_ratio", "answer_fig9_ratio = 4", "exact halving"),
    "06_inception_v3": ("smoothed_target", "answer_smoothed_target = 1 - 0.1", "added to every class"),
    "08_training": ("training_rate", "answer_training_rate = 0.045 * 0.94 ** 9", "decays every epoch"),
    "07_lab": ("lab_knockout", "answer_lab_knockout = min(ko_googlenet.ranked(), key=lambda c: c[2])[:2]",
               "*smallest* drop"),
}


make_assignments = load_module("scripts/make_assignments.py")
grade_submissions = load_module("scripts/grade_submissions.py")


def test_every_chapter_has_a_mistake_to_grade():
    assert sorted(MISTAKES) == [p.stem for p in ALL_NOTEBOOKS]


def _with_mistake(reference: nbformat.NotebookNode, variable: str, code: str) -> nbformat.NotebookNode:
    """The reference notebook with the answer to one question replaced, just before its checker call."""
    nb = nbformat.reads(nbformat.writes(reference), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "# BEGIN PROMPT" in c.source
             and c.source.rstrip().splitlines()[-1].startswith("ex.") and f"({variable}" in c.source.splitlines()[-1]]
    assert len(cells) == 1, f"no single answer cell for {variable}"
    lines = cells[0].source.rstrip().splitlines()
    cells[0].source = "\n".join([*lines[:-1], code, lines[-1]])
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade a chapter's three notebooks once (lazily, so that `-k 03_bn` grades one chapter only)."""
    out = tmp_path_factory.mktemp("classroom")
    cache: dict[str, dict] = {}

    def grade(stem: str) -> dict:
        if stem not in cache:
            chapter = ROOT / "notebooks" / f"{stem}.ipynb"
            questions = make_assignments.write_assignment(chapter, ROOT / "assignments" / f"{stem}.yml", out)
            folder = out / stem
            zips = list((folder / "autograder").glob("*-autograder_*.zip"))
            assert len(zips) == 1
            reference = nbformat.read(folder / "autograder" / chapter.name, as_version=4)
            question, code, hint = MISTAKES[stem]
            variable = next(q.variable for q in questions if q.name == question)
            submissions = out / f"{stem}-submissions"
            submissions.mkdir()
            nbformat.write(reference, submissions / "reference.ipynb")
            nbformat.write(_with_mistake(reference, variable, code), submissions / "one_mistake.ipynb")
            (submissions / "untouched.ipynb").write_bytes((folder / "student" / chapter.name).read_bytes())
            # debug: a notebook that raises is not graded (an error row), so none of the three may raise
            csv_path = out / f"{stem}-scores.csv"
            rows = grade_submissions.grade_folder(zips[0], submissions, csv_path, timeout=900, debug=True,
                                                  jobs=3)  # several chapters run on one thread: 3 share 2 cores
            with csv_path.open(newline="", encoding="utf-8") as handle:
                assert list(csv.DictReader(handle)) == [{k: str(v) for k, v in row.items()} for row in rows]
            reports = {row["file"]: json.loads((out / f"{stem}-scores-results" / pathlib.Path(row["file"]).stem
                                                / "results.json").read_text(encoding="utf-8")) for row in rows}
            cache[stem] = dict(rows={pathlib.Path(r["file"]).stem: r for r in rows}, reports=reports,
                               auto={q.name: q.points for q in questions if q.kind == "auto"})
            print(f"\n{stem}: " + ", ".join(f"{pathlib.Path(r['file']).stem} {r['total']:g}/{r['possible']:g}"
                                           for r in rows) + f" (one mistake: {question})")
        return cache[stem]

    return grade


@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_reference_scores_full_marks(stem, graded):
    result = graded(stem)
    row = result["rows"]["reference"]
    assert row["error"] == ""
    assert {q: row[q] for q in result["auto"]} == result["auto"]
    assert row["total"] == row["possible"] == sum(result["auto"].values())


@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_untouched_student_notebook_scores_zero_on_every_question(stem, graded):
    result = graded(stem)
    row = result["rows"]["untouched"]
    assert row["error"] == "", "the untouched student notebook must run to the end"
    assert all(row[q] == 0 for q in result["auto"]) and row["total"] == 0


@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_one_typical_mistake_loses_exactly_that_questions_points(stem, graded):
    result = graded(stem)
    question, _, hint = MISTAKES[stem]
    row = result["rows"]["one_mistake"]
    assert row["error"] == ""
    assert row[question] == 0
    assert all(row[q] == points for q, points in result["auto"].items() if q != question)
    assert row["total"] == row["possible"] - result["auto"][question]
    output = next(t["output"] for t in result["reports"]["one_mistake.ipynb"]["tests"] if t["name"] == question)
    assert hint in output, f"the checker's hint should explain the lost points: {output[-600:]}"
