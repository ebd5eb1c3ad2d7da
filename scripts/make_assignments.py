"""Per-chapter assignments in Otter-Grader's format, generated from the chapters' exercises (`make assignments`).

Usage (from the repository root, in an environment with the `classroom` extra):
    python scripts/make_assignments.py [--out assignments/dist] [--student-dir DIR]
                                       [notebooks/01_inception_module.ipynb ...]

One source of truth: a chapter's exercises (``{exercise}`` directives, the checker cell under each, the solution
cells tagged ``solution``) and the checkers in ``inception_lab.exercises``. With each chapter's spec
``assignments/NN_name.yml`` (points, extra hidden tests, written questions with rubrics; see assignments/README.md)
this script writes ``<out>/NN_name/``:

* ``master/NN_name.ipynb`` -- Otter Assign's master notebook: the whole chapter, each exercise turned into an
  auto-graded question (the reference solution inside a solution block; the checker is the public test), each
  written question of the spec a manually graded one; plus the results files the chapter reads;
* ``autograder/`` -- ``otter assign``'s output: the reference notebook and ``NN_name-autograder_<time>.zip``
  (upload it to Gradescope, or grade with ``otter run`` / ``scripts/grade_submissions.py``);
* ``student/`` -- the student notebook (solutions and outputs removed, no Otter cells: it runs without Otter
  installed, each checker still answers in the notebook) and the results files it reads;
* ``rubric.md`` -- points per question, which tests are hidden, and the written questions' model answers and rubrics.

``--student-dir DIR`` also copies every student folder to ``DIR/`` (``make student``: the solution-free notebooks).
``make classroom-check`` grades the reference, untouched and one-mistake notebooks of every chapter.
"""

from __future__ import annotations

import argparse
import ast
import copy
import io
import pathlib
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from typing import Any

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPECS = ROOT / "assignments"
DIST = SPECS / "dist"
#: The chapters read recorded results as ``../benchmarks/results/NAME`` (relative to ``notebooks/``); an assignment
#: folder carries its own copy beside the notebook, so that it grades and runs outside the repository.
RESULTS_PATH = re.compile(r"\.\./(benchmarks/results/[\w.-]+)")

EXERCISE = re.compile(r"^:::\{exercise\}[ \t]*(?P<title>.*)\n(?P<body>(?:.*\n)*?)^:::[ \t]*(?:\n|$)", re.M)
SOLUTION_START = re.compile(r"^:::\{solution-start\}[ \t]*(?P<label>\S+)[ \t]*\n(?:^:\w+:.*\n)*^:::[ \t]*(?:\n|$)",
                            re.M)
SOLUTION_END = re.compile(r"^:::\{solution-end\}[ \t]*\n^:::[ \t]*(?:\n|$)", re.M)
OPTION = re.compile(r"^:(?P<key>\w+):[ \t]*(?P<value>.*)$")


class SpecError(ValueError):
    """A chapter and its assignment spec do not fit together (the message says where and what is allowed)."""


@dataclass
class Exercise:
    """One ``{exercise}`` of a chapter: its prompt, the cell that calls the checker, and the worked solution."""

    label: str
    title: str
    prompt: str
    checker_cell: str | None = None  # None: a written exercise (no checker), graded by hand
    solution_before: list[str] = field(default_factory=list)  # solution prose before the first solution code cell
    solution_code: list[str] = field(default_factory=list)
    solution_after: list[str] = field(default_factory=list)  # solution prose after it

    @property
    def slug(self) -> str:
        """``ex-ch2-aux-macs`` -> ``aux_macs``: the question's name in Otter and in the answer variable."""
        slug = re.sub(r"^ex-(ch\d+-)?", "", self.label)
        return re.sub(r"\W", "_", slug.replace("-", "_"))


@dataclass
class Question:
    """A graded question of an assignment, as the rubric and the tests see it."""

    name: str
    title: str
    kind: str  # "auto" or "written"
    points: float
    hidden_points: float = 0.0
    variable: str | None = None  # the global the tests read (auto-graded questions)
    checker: str | None = None  # "module.function" in inception_lab.exercises
    model_answer: str = ""
    rubric: list[tuple[float, str]] = field(default_factory=list)


# --- reading a chapter -------------------------------------------------------------------------------------------


def _markdown_pieces(text: str) -> list[tuple[str, Any]]:
    """Split a markdown cell into ("text", str), ("exercise", match), ("start", label) and ("end", None) pieces."""
    matches = [(m.start(), m.end(), kind, m) for kind, regex in
               (("exercise", EXERCISE), ("start", SOLUTION_START), ("end", SOLUTION_END)) for m in regex.finditer(text)]
    pieces, position = [], 0
    for start, end, kind, match in sorted(matches, key=lambda t: t[0]):
        if text[position:start].strip():
            pieces.append(("text", text[position:start].strip("\n") + "\n"))
        pieces.append((kind, match.group("label") if kind == "start" else match if kind == "exercise" else None))
        position = end
    if text[position:].strip():
        pieces.append(("text", text[position:].strip("\n") + "\n"))
    return pieces


def _parse_directive(match: re.Match[str]) -> tuple[str, str]:
    """The label and the prompt (options removed) of an ``{exercise}`` directive."""
    label, lines = None, []
    for line in match.group("body").splitlines():
        option = OPTION.match(line)
        if option and not lines:
            if option["key"] == "label":
                label = option["value"].strip()
            continue
        lines.append(line)
    if not label:
        raise SpecError(f"exercise {match.group('title')!r} has no :label: (every exercise needs one)")
    return label, "\n".join(lines).strip() + "\n"


def chapter_items(nb: nbformat.NotebookNode) -> list[Any]:
    """The chapter as a sequence of plain cells and :class:`Exercise` objects, in order.

    Raises:
        SpecError: an exercise without its checker cell or solution block, or a solution block out of place.
    """
    items: list[Any] = []
    current: Exercise | None = None
    state = "outside"  # outside -> exercise -> checker -> solution -> outside

    def emit_text(text: str, metadata: dict) -> None:
        if state == "outside":
            items.append(nbformat.v4.new_markdown_cell(text, metadata=copy.deepcopy(metadata)))
        elif state == "solution":
            (current.solution_after if current.solution_code else current.solution_before).append(text)
        else:
            raise SpecError(f"{current.label}: prose between the exercise and its solution block (only the checker "
                            "cell may stand there)")

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for kind, value in _markdown_pieces(cell.source):
                if kind == "text":
                    emit_text(value, cell.metadata)
                elif kind == "exercise":
                    if state != "outside":
                        raise SpecError(f"an exercise starts inside {current.label}")
                    label, prompt = _parse_directive(value)
                    current = Exercise(label, value.group("title").strip(), prompt)
                    state = "exercise"
                elif kind == "start":
                    if current is None or state not in ("exercise", "checker") or value != current.label:
                        raise SpecError(f"solution-start {value} does not follow its exercise")
                    state = "solution"
                else:  # end
                    if state != "solution":
                        raise SpecError("a solution-end without its solution-start")
                    items.append(current)
                    current, state = None, "outside"
        elif cell.cell_type == "code":
            if state == "exercise":
                current.checker_cell, state = cell.source, "checker"
            elif state == "solution":
                if current.solution_after:
                    raise SpecError(f"{current.label}: solution code after solution prose that follows code; "
                                    "merge the solution's code cells")
                current.solution_code.append(cell.source)
            elif state == "checker":
                raise SpecError(f"{current.label}: two code cells before the solution block (one checker cell)")
            else:
                items.append(copy.deepcopy(cell))
        else:
            items.append(copy.deepcopy(cell))
    if state != "outside":
        raise SpecError(f"{current.label}: the chapter ends inside the exercise")
    return items


# --- code transformations ----------------------------------------------------------------------------------------


def rename(source: str, old: str, new: str) -> str:
    """``source`` with every Python name token ``old`` replaced by ``new`` (comments and strings untouched)."""
    lines = source.splitlines(keepends=True)
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type == tokenize.NAME and t.string == old]
    for token in reversed(tokens):
        row, col = token.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[col + len(old):]
    return "".join(lines)


def _checker_call(tree: ast.Module, alias: str) -> ast.Call | None:
    """The last top-level statement of ``tree`` if it is a call ``alias.name(...)``."""
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        func = last.value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == alias:
            return last.value
    return None


def _source_lines_before(source: str, node: ast.stmt) -> str:
    return "".join(source.splitlines(keepends=True)[:node.lineno - 1]).rstrip() + "\n"


@dataclass
class AnswerCell:
    """The pieces of a question's answer cell."""

    variable: str
    checker: str
    prompt: str  # what the student gets to edit (the chapter's checker cell without its last line)
    call: str  # the checker call, on the answer variable
    solution: str  # the chapter's solution code, its final checker call replaced by the answer's assignment
    test_params: list[str]
    test_call: ast.Call


def answer_cell(exercise: Exercise, alias: str) -> AnswerCell:
    """Split the checker cell and the solution of ``exercise`` into prompt, solution and checker call."""
    source = exercise.checker_cell
    call = _checker_call(ast.parse(source), alias)
    if call is None or not call.args or not isinstance(call.args[0], ast.Name):
        raise SpecError(f"{exercise.label}: the checker cell must end with `{alias}.checker(answer_name, ...)`")
    old = call.args[0].id
    tree = ast.parse(source)
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    variable = old if old in defined else f"answer_{exercise.slug}"
    source = rename(source, old, variable) if variable != old else source
    tree = ast.parse(source)
    call = _checker_call(tree, alias)
    prompt = "".join(source.splitlines(keepends=True)[:tree.body[-1].lineno - 1])  # blank lines kept
    call_source = ast.get_source_segment(source, tree.body[-1])

    code = "\n\n".join(s.strip("\n") for s in exercise.solution_code) + "\n"
    solution_tree = ast.parse(code)
    final = _checker_call(solution_tree, alias)
    checker = call.func.attr
    if final is not None and final.func.attr == checker and final.args:
        expression = ast.get_source_segment(code, final.args[0])
        code = _source_lines_before(code, solution_tree.body[-1]) if solution_tree.body[:-1] else ""
    else:  # the checker is called deeper (e.g. under an `if`): keep the code, take the last call's argument
        calls = [node for node in ast.walk(solution_tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr == checker and node.args]
        if not calls:
            raise SpecError(f"{exercise.label}: the solution never calls {alias}.{checker}(...)")
        last = max(calls, key=lambda node: (node.lineno, node.col_offset))
        expression = ast.get_source_segment(code, last.args[0])
        tail = solution_tree.body[-1]
        if isinstance(tail, ast.Expr) and isinstance(tail.value, ast.Name):  # a bare name that displays feedback
            code = _source_lines_before(code, tail)
    if expression.strip() != variable:
        code += f"{variable} = {expression}\n"

    params = sorted({node.id for arg in [*call.args, *(k.value for k in call.keywords)] for node in ast.walk(arg)
                     if isinstance(node, ast.Name)})
    test_call = copy.deepcopy(call)
    test_call.func = ast.Attribute(value=ast.Name(id="checks", ctx=ast.Load()), attr=checker, ctx=ast.Load())
    return AnswerCell(variable, checker, prompt, call_source, code, params, test_call)


def answer_cell_source(cell: AnswerCell) -> str:
    """Otter's markers around the pieces: the student sees the prompt and the call, the reference the solution."""
    if '"""' in cell.prompt:
        raise SpecError(f"the checker cell of {cell.variable} contains triple quotes; use single quotes there")
    return (f'r""" # BEGIN PROMPT\n{cell.prompt}"""  # END PROMPT\n'
            f"# BEGIN SOLUTION NO PROMPT\n{cell.solution}# END SOLUTION\n"
            f"{cell.call}")


def otter_test_cell(points: float, hidden: bool, function: str) -> str:
    """An exception-based Otter test cell."""
    return (f'""" # BEGIN TEST CONFIG\npoints: {points:g}\nhidden: {str(hidden).lower()}\n""" # END TEST CONFIG\n'
            f"{function.strip()}\n")


def public_test(name: str, module: str, cell: AnswerCell) -> str:
    """The public test of an auto-graded question: the chapter's own checker, its hint as the failure message."""
    params = ", ".join(cell.test_params)
    return (f"def test_{name}({params}):\n"
            f"    from inception_lab.exercises import {module} as checks\n\n"
            f"    feedback = {ast.unparse(cell.test_call)}\n"
            f"    assert feedback.correct, str(feedback)\n")


# --- the spec ----------------------------------------------------------------------------------------------------


def load_spec(path: pathlib.Path) -> dict[str, Any]:
    """Read and check an assignment spec (see assignments/README.md for its keys)."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    allowed = {"chapter", "questions", "written", "default_points"}
    if unknown := set(spec) - allowed:
        raise SpecError(f"{path.name}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    for label, entry in (spec.get("questions") or {}).items():
        if isinstance(entry, (int, float)):
            continue
        if not isinstance(entry, dict) or set(entry) - {"points", "hidden"} or "points" not in entry:
            raise SpecError(f"{path.name}: questions.{label} must be a number of points or a mapping with 'points' "
                            "and optionally 'hidden' (a list of {points, test})")
        for hidden in entry.get("hidden", []):
            if set(hidden) != {"points", "test"}:
                raise SpecError(f"{path.name}: each hidden test of {label} needs exactly 'points' and 'test'")
    for written in spec.get("written") or []:
        required = {"name", "title", "points", "prompt", "answer", "rubric"}
        if set(written) != required:
            raise SpecError(f"{path.name}: a written question needs exactly the keys {sorted(required)}, "
                            f"got {sorted(written)}")
        if sum(item[0] for item in written["rubric"]) != written["points"]:
            raise SpecError(f"{path.name}: the rubric of {written['name']} does not add up to its "
                            f"{written['points']} points")
    return spec


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


# --- the master notebook -----------------------------------------------------------------------------------------


def _raw(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_raw_cell(text)


def _exercise_alias(nb: nbformat.NotebookNode) -> tuple[str, str]:
    """The alias and module of ``from inception_lab.exercises import MODULE as ALIAS`` in the chapter."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            match = re.search(r"^from inception_lab\.exercises import (\w+) as (\w+)$", cell.source, re.M)
            if match:
                return match.group(2), match.group(1)
    raise SpecError("the chapter does not import its exercises (from inception_lab.exercises import X as ex)")


def library_requirement() -> str:
    """What the grading environment installs: the library at the version the chapters pin (their setup cell)."""
    setup = (ROOT / "notebooks" / "01_inception_module.ipynb").read_text(encoding="utf-8")
    version = re.search(r'LIBRARY_VERSION = \\"([^"\\]+)\\"', setup).group(1)
    url = re.search(r"git\+(https://[^\"@{]+)@v", setup)
    return f"inception-lab @ git+{url.group(1)}@v{version}" if url else f"inception-lab=={version}"


def build_master(nb: nbformat.NotebookNode, spec: dict[str, Any], stem: str
                 ) -> tuple[nbformat.NotebookNode, list[Question], list[str]]:
    """Otter Assign's master notebook for one chapter, its questions, and the results files it reads."""
    number = int(stem[:2])
    alias, module = _exercise_alias(nb)
    items = chapter_items(nb)
    exercises = [item for item in items if isinstance(item, Exercise)]
    entries = dict(spec.get("questions") or {})
    if unknown := set(entries) - {e.label for e in exercises}:
        raise SpecError(f"{stem}.yml names exercises the chapter does not have: {sorted(unknown)}")
    if len({e.slug for e in exercises}) != len(exercises):
        raise SpecError(f"{stem}: two exercises share a name after removing 'ex-' ({[e.slug for e in exercises]})")

    questions: list[Question] = []
    cells: list[nbformat.NotebookNode] = []
    files: set[str] = set()
    written = list(spec.get("written") or [])
    last_exercise = max(i for i, item in enumerate(items) if isinstance(item, Exercise)) if exercises else -1
    for index, item in enumerate(items):
        if not isinstance(item, Exercise):
            if item.cell_type == "code":
                files.update(RESULTS_PATH.findall(item.source))
                item.source = RESULTS_PATH.sub(r"\1", item.source)
                item.outputs, item.execution_count = [], None
            cells.append(item)
        else:
            k = exercises.index(item) + 1
            entry = entries.get(item.label, spec.get("default_points", 1))
            entry = entry if isinstance(entry, dict) else {"points": entry}
            if item.checker_cell is None:
                cells.extend(_written_cells(item.slug, f"Exercise {number}.{k}: {item.title}", entry["points"],
                                            item.prompt, "".join(item.solution_before + item.solution_after),
                                            [(entry["points"], "matches the model answer")], questions))
            else:
                cells.extend(_auto_cells(item, k, number, alias, module, entry, questions))
        if index == last_exercise:
            for w in written:
                cells.extend(_written_cells(w["name"], f"Written question {number}.W: {w['title']}", w["points"],
                                            w["prompt"], w["answer"], [tuple(r) for r in w["rubric"]], questions))
    header = _header(number, nb.cells[0].source.splitlines()[0].lstrip("# "), questions)
    title_end = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
    config = {
        "name": f"inception-lab-{stem.replace('_', '-')}",
        "init_cell": False, "check_all_cell": False, "export_cell": False,
        "tests": {"files": False, "ok_format": False},
        "requirements": [library_requirement()],
        "python_version": "3.11",
        "generate": {"pdf": False, "show_stdout": False, "show_hidden": False},
    }
    if files:
        config["files"] = ["benchmarks"]
    master = copy.deepcopy(nb)
    master.cells = ([_raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False))]
                    + cells[:title_end] + [header] + cells[title_end:])
    return master, questions, sorted(files)


def _auto_cells(exercise: Exercise, k: int, number: int, alias: str, module: str, entry: dict[str, Any],
                questions: list[Question]) -> list[nbformat.NotebookNode]:
    cell = answer_cell(exercise, alias)
    name = exercise.slug
    hidden = entry.get("hidden", [])
    total = entry["points"] + sum(h["points"] for h in hidden)
    questions.append(Question(name, f"Exercise {number}.{k}: {exercise.title}", "auto", total,
                              sum(h["points"] for h in hidden), cell.variable, f"{module}.{cell.checker}"))
    heading = f"### Exercise {number}.{k}: {exercise.title} ({_points(total)})\n\n"
    out = [_raw(f"# BEGIN QUESTION\nname: {name}\npoints: {total:g}\ncheck_cell: false"),
           nbformat.v4.new_markdown_cell(heading + exercise.prompt),
           _raw("# BEGIN SOLUTION")]
    out += [nbformat.v4.new_markdown_cell(text) for text in exercise.solution_before]
    out.append(nbformat.v4.new_code_cell(answer_cell_source(cell)))
    out += [nbformat.v4.new_markdown_cell(text) for text in exercise.solution_after]
    out += [_raw("# END SOLUTION"), _raw("# BEGIN TESTS"),
            nbformat.v4.new_code_cell(otter_test_cell(entry["points"], False, public_test(name, module, cell)))]
    out += [nbformat.v4.new_code_cell(otter_test_cell(h["points"], True, h["test"])) for h in hidden]
    out += [_raw("# END TESTS"), _raw("# END QUESTION")]
    return out


def _written_cells(name: str, title: str, points: float, prompt: str, answer: str, rubric: list[tuple[float, str]],
                   questions: list[Question]) -> list[nbformat.NotebookNode]:
    questions.append(Question(name, title, "written", points, model_answer=answer.strip(), rubric=rubric))
    rubric_md = "\n".join(f"- {p:g}: {text}" for p, text in rubric)
    return [_raw(f"# BEGIN QUESTION\nname: {name}\nmanual: true\npoints: {points:g}"),
            nbformat.v4.new_markdown_cell(f"### {title} ({_points(points)}, graded by hand)\n\n{prompt.strip()}\n"),
            _raw("# BEGIN SOLUTION"),
            nbformat.v4.new_markdown_cell(f"**Model answer.** {answer.strip()}\n\n**Rubric.**\n\n{rubric_md}\n"),
            _raw("# END SOLUTION"), _raw("# END QUESTION")]


def _header(number: int, title: str, questions: list[Question]) -> nbformat.NotebookNode:
    auto = [q for q in questions if q.kind == "auto"]
    written = [q for q in questions if q.kind == "written"]
    names = ", ".join(f"`{q.variable}`" for q in auto)
    return nbformat.v4.new_markdown_cell(
        f"> **Assignment: chapter {number}, {title}.** {len(auto)} auto-graded exercises "
        f"({sum(q.points for q in auto):g} points) and {len(written)} written question"
        f"{'s' if len(written) != 1 else ''} graded by hand ({sum(q.points for q in written):g} points).\n>\n"
        "> In each exercise's answer cell, replace `None` (or the `# your code here` stub) and run the cell: the "
        "checker under it says whether your answer is right and, if not, gives a hint. Keep the names the cells "
        f"define ({names}): the grader reads them. Write the answers to written questions in the cell under "
        "each question. Before you submit this `.ipynb` file, run it from the top (Kernel > Restart & Run All): "
        "the grader runs it that way.\n")


# --- writing the assignments -------------------------------------------------------------------------------------


def rubric_markdown(stem: str, questions: list[Question]) -> str:
    """The grader's sheet for one chapter: points, hidden tests, model answers and rubrics."""
    lines = [f"# Assignment {stem}: points and rubric", "",
             "| question | graded | points | of which hidden tests | the answer cell defines |",
             "|---|---|---|---|---|"]
    for q in questions:
        lines.append(f"| {q.title} (`{q.name}`) | {'by Otter' if q.kind == 'auto' else 'by hand'} | {q.points:g} | "
                     f"{q.hidden_points:g} | {f'`{q.variable}`' if q.variable else ''} |")
    total_auto = sum(q.points for q in questions if q.kind == "auto")
    total_written = sum(q.points for q in questions if q.kind == "written")
    lines += ["", f"Auto-graded: {total_auto:g} points; graded by hand: {total_written:g} points.", ""]
    for q in questions:
        if q.kind == "written":
            lines += [f"## {q.title} ({_points(q.points)})", "", f"**Model answer.** {q.model_answer}", "",
                      "**Rubric.**", ""] + [f"- {p:g}: {text}" for p, text in q.rubric] + [""]
    return "\n".join(lines)


def write_assignment(chapter: pathlib.Path, spec_path: pathlib.Path, out: pathlib.Path) -> list[Question]:
    """Write ``out/<chapter stem>/``: the master notebook, the rubric, and Otter's autograder and student folders."""
    stem = chapter.stem
    master, questions, files = build_master(nbformat.read(chapter, as_version=4), load_spec(spec_path), stem)
    folder = out / stem
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "master").mkdir(parents=True)
    nbformat.validate(master)
    nbformat.write(master, folder / "master" / chapter.name)
    for name in files:
        target = folder / "master" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, target)
    (folder / "rubric.md").write_text(rubric_markdown(stem, questions), encoding="utf-8")
    command = [sys.executable, "-m", "otter", "assign", "--no-pdfs", "--no-run-tests",
               str(folder / "master" / chapter.name), str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"otter assign failed for {stem}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=DIST)
    parser.add_argument("--student-dir", type=pathlib.Path, default=None)
    args = parser.parse_args()
    try:
        import otter  # noqa: F401  (the classroom extra)
    except ImportError:
        sys.exit("otter-grader is not installed: make assignments, or pip install -c constraints.txt -e '.[classroom]'")
    chapters = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for chapter in chapters:
        spec = SPECS / f"{chapter.stem}.yml"
        if not spec.is_file():
            sys.exit(f"{chapter.name}: no assignment spec {spec.relative_to(ROOT)} (every chapter needs one)")
        questions = write_assignment(chapter, spec, args.out)
        auto = sum(q.points for q in questions if q.kind == "auto")
        written = sum(q.points for q in questions if q.kind == "written")
        print(f"{args.out / chapter.stem}: {len(questions)} questions, {auto:g} points auto-graded, "
              f"{written:g} by hand")
        if args.student_dir:
            args.student_dir.mkdir(parents=True, exist_ok=True)
            shutil.copytree(args.out / chapter.stem / "student", args.student_dir, dirs_exist_ok=True)
    if args.student_dir:
        print(f"student notebooks: {args.student_dir}")


if __name__ == "__main__":
    main()
