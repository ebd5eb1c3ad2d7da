"""Student notebooks: the assignments' master notebooks keep the whole chapter and put every solution inside Otter's
solution blocks; Otter's student output keeps no solution, needs no Otter, and runs to the end.

The master-notebook tests need no Otter and run everywhere; the tests of Otter's output (marker `classroom`: they run
`otter assign` on every chapter) run in `make classroom-check`, and skip where otter-grader (the `classroom` extra)
is not installed.
"""

from __future__ import annotations

import ast
import functools
import pathlib
import re

import nbformat
import pytest
from conftest import load_module

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


make_assignments = load_module("scripts/make_assignments.py")


@functools.cache
def _master(path):
    spec = make_assignments.load_spec(ROOT / "assignments" / f"{path.stem}.yml")
    return make_assignments.build_master(nbformat.read(path, as_version=4), spec, path.stem)


def _blocks(master):
    """Map each master cell to the Otter block it is in: None (outside a question), 'question', 'solution', 'tests'."""
    where, stack = [], []
    for cell in master.cells:
        first = cell.source.splitlines()[0] if cell.cell_type == "raw" and cell.source else ""
        if match := re.match(r"# (BEGIN|END) (QUESTION|SOLUTION|TESTS)$", first):
            kind = match.group(2).lower()
            if match.group(1) == "BEGIN":
                stack.append(kind)
            else:
                assert stack.pop() == kind, f"# END {kind.upper()} closes another block"
            where.append("marker")
        else:
            where.append(stack[-1] if stack else None)
    assert not stack, f"unclosed blocks: {stack}"
    return where


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_has_a_spec_and_every_exercise_becomes_a_question(path):
    nb = nbformat.read(path, as_version=4)
    master, questions, _ = _master(path)
    nbformat.validate(master)
    exercises = sum(c.source.count(":::{exercise}") for c in nb.cells if c.cell_type == "markdown")
    auto = [q for q in questions if q.kind == "auto"]
    assert len(auto) == exercises >= 3
    assert [q for q in questions if q.kind == "written"], "one conceptual question graded by hand per chapter"
    assert all(q.points > 0 for q in questions)
    assert len({q.name for q in questions}) == len(questions)
    # the answer variables are distinct, so a later cell cannot overwrite the answer the tests read
    assert len({q.variable for q in auto}) == len(auto)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_lie_inside_solution_blocks_and_the_rest_of_the_chapter_is_kept(path):
    nb = nbformat.read(path, as_version=4)
    master, questions, files = _master(path)
    where = _blocks(master)
    outside = "\n".join(c.source for c, w in zip(master.cells, where, strict=True) if w in (None, "question"))
    solutions = [c.source for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert solutions
    for source in solutions:
        for line in source.splitlines():
            if len(line.strip()) > 25:  # every substantial line of a solution stays out of what students see
                assert line not in outside, f"solution line outside a solution block: {line!r}"
    kept = [make_assignments.RESULTS_PATH.sub(r"\1", c.source) for c in nb.cells
            if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])
            and not re.match(r"ex\.\w+\(", c.source.strip().splitlines()[-1] if c.source.strip() else "")]
    assert all(source in outside for source in kept), "a chapter code cell is missing from the assignment"
    assert all((ROOT / name).is_file() for name in files)
    assert "../benchmarks" not in "\n".join(c.source for c in master.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_answer_cell_gives_students_the_chapters_prompt_and_the_reference_its_solution(path):
    master, questions, _ = _master(path)
    answer_cells = [c.source for c in master.cells if c.cell_type == "code" and "# BEGIN PROMPT" in c.source]
    auto = [q for q in questions if q.kind == "auto"]
    assert len(answer_cells) == len(auto)
    for source, question in zip(answer_cells, auto, strict=True):
        ast.parse(source)  # the reference cell is valid Python
        prompt = source.split("# BEGIN PROMPT\n", 1)[1].split('"""  # END PROMPT', 1)[0]
        solution = source.split("# BEGIN SOLUTION NO PROMPT\n", 1)[1].split("# END SOLUTION\n", 1)[0]
        call = source.split("# END SOLUTION\n", 1)[1]
        student = prompt + call  # what Otter leaves (its marker lines and the solution block removed)
        ast.parse(student)
        assert "None" in prompt
        assert f"ex.{question.checker.split('.')[1]}({question.variable}" in call
        assert re.search(rf"^(def )?{question.variable}\b", solution, re.M), "the solution must define the answer"


def test_spec_errors_say_what_is_wrong(tmp_path):
    spec = tmp_path / "01_inception_module.yml"
    spec.write_text("questions:\n  ex-no-such-exercise: 1\n", encoding="utf-8")
    with pytest.raises(make_assignments.SpecError, match="ex-no-such-exercise"):
        make_assignments.build_master(nbformat.read(NOTEBOOKS[0], as_version=4),
                                      make_assignments.load_spec(spec), NOTEBOOKS[0].stem)
    spec.write_text("written:\n  - {name: w, title: t, points: 3, prompt: p, answer: a, rubric: [[1, x]]}\n",
                    encoding="utf-8")
    with pytest.raises(make_assignments.SpecError, match="does not add up"):
        make_assignments.load_spec(spec)
    spec.write_text("pionts: 3\n", encoding="utf-8")
    with pytest.raises(make_assignments.SpecError, match="unknown keys"):
        make_assignments.load_spec(spec)


def test_rename_touches_names_only():
    source = "answer = None  # your answer: an integer\nex.check(answer)  # 'answer'\n"
    assert make_assignments.rename(source, "answer", "answer_x") == (
        "answer_x = None  # your answer: an integer\nex.check(answer_x)  # 'answer'\n")


#: For each exercise with hidden tests: an answer that the chapter's checker accepts but the exercise rules out.
SLIPS = {
    ("01_inception_module", "ex-pointwise"):  # a convolution, where the exercise asks for a matrix product
        "def pointwise(x, weight, bias):\n    return torch.nn.functional.conv2d(x, weight, bias)\n",
    ("03_bn_inception", "ex-fold"):  # right values, but the caller's convolution and BN are changed in place
        "def fold(weight, gamma, beta, mean, var, eps):\n    scale = gamma / torch.sqrt(var + eps)\n"
        "    weight *= scale[:, None, None, None]\n    beta -= scale * mean\n    return weight, beta\n",
}


def test_every_hidden_test_has_a_slip_to_catch():
    hidden = {(p.stem, label) for p in NOTEBOOKS
              for label, entry in (make_assignments.load_spec(ROOT / "assignments" / f"{p.stem}.yml")
                                   .get("questions") or {}).items() if isinstance(entry, dict) and entry.get("hidden")}
    assert hidden == set(SLIPS)


@pytest.mark.parametrize(("stem", "label"), sorted(SLIPS))
def test_hidden_tests_pass_the_reference_and_catch_what_the_checker_cannot(stem, label):
    import importlib

    import torch

    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    exercise = next(e for e in make_assignments.chapter_items(nb)
                    if isinstance(e, make_assignments.Exercise) and e.label == label)
    alias, module = make_assignments._exercise_alias(nb)
    cell = make_assignments.answer_cell(exercise, alias)
    checks = importlib.import_module(f"inception_lab.exercises.{module}")
    reference, slip = {"torch": torch, alias: checks}, {"torch": torch}
    exec("\n".join(exercise.solution_code), reference)  # the chapter's worked solution
    exec(SLIPS[stem, label], slip)
    checker = getattr(checks, cell.checker)
    assert checker(reference[cell.variable]).correct and checker(slip[cell.variable]).correct
    spec = make_assignments.load_spec(ROOT / "assignments" / f"{stem}.yml")
    for hidden in spec["questions"][label]["hidden"]:
        namespace: dict = {}
        exec(hidden["test"], namespace)
        test = next(value for name, value in namespace.items() if name.startswith("test_"))
        test(reference[cell.variable])
        with pytest.raises(AssertionError):
            test(slip[cell.variable])


# --- Otter's student output (needs otter-grader: the classroom extra) ---------------------------------------------


@pytest.fixture(scope="module")
def student_notebooks(tmp_path_factory):
    pytest.importorskip("otter")
    out = tmp_path_factory.mktemp("assignments")
    for path in NOTEBOOKS:
        make_assignments.write_assignment(path, ROOT / "assignments" / f"{path.stem}.yml", out)
    return {path.stem: out / path.stem / "student" / path.name for path in NOTEBOOKS}


@pytest.mark.classroom
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_otter_student_notebook_has_no_solution_and_no_otter(path, student_notebooks):
    nb = nbformat.read(path, as_version=4)
    student = nbformat.read(student_notebooks[path.stem], as_version=4)
    nbformat.validate(student)
    text = "\n".join(c.source for c in student.cells)
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    given = "\n".join(c.source for c in nb.cells if "solution" not in c.metadata.get("tags", []))
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []):
            for line in cell.source.splitlines():
                if len(line.strip()) > 25 and line not in given:  # a stub's `def` line is given to students
                    assert line not in text, f"solution text survived: {line!r}"
    assert "BEGIN" not in code and "SOLUTION" not in code and "PROMPT" not in code
    assert "Model answer" not in text and "Rubric" not in text
    assert not re.search(r"\b(import otter|from otter|grader\.)", text), "the student notebook must not need Otter"
    assert all(not c.outputs and c.execution_count is None for c in student.cells if c.cell_type == "code")
    exercises = sum(c.source.count(":::{exercise}") for c in nb.cells if c.cell_type == "markdown")
    assert sum(c.cell_type == "code" and "otter_answer_cell" in c.metadata.get("tags", []) for c in student.cells) \
        == exercises
    hidden = "\n".join(str(v) for v in student.metadata.get("otter", {}).get("tests", {}).values())
    assert "hidden=True" not in hidden, "hidden tests must not ship to students"


@pytest.mark.classroom
def test_a_student_notebook_runs_to_the_end_without_otter(student_notebooks):
    # Each checker answers "Not yet" to the untouched answers instead of raising; `import otter` is made to fail.
    nbclient = pytest.importorskip("nbclient")
    path = student_notebooks[NOTEBOOKS[0].stem]
    student = nbformat.read(path, as_version=4)
    student.cells.insert(0, nbformat.v4.new_code_cell("import sys\nsys.modules['otter'] = None  # no Otter here"))
    nbclient.NotebookClient(student, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    feedback = [str(o) for c in student.cells if c.cell_type == "code"
                and "otter_answer_cell" in c.metadata.get("tags", []) for o in c.outputs]
    assert len(feedback) >= 5 and all("Not yet" in f for f in feedback)
