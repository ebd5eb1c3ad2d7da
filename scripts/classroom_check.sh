#!/usr/bin/env bash
# Classroom stage: the teachers' side, Otter-Grader, in its own environment (run by CI after `make test`;
# `bash scripts/classroom_check.sh` runs it alone).
#
# otter-grader (the `classroom` extra) stays out of .venv, so the main `make test` skips tests/test_classroom.py and
# the Otter half of tests/test_student.py. This stage
#   1. builds .venv-classroom (`make assignments`: the pinned set of constraints.txt plus otter-grader) and writes
#      every chapter's assignment to assignments/dist/ (autograder zip, student notebook, rubric);
#   2. runs tests/test_student.py (Otter's student notebooks: no solution, no Otter, they run to the end without it)
#      and tests/test_classroom.py (`otter run`, no Docker: the reference solutions score full marks, the untouched
#      student notebook zero on every auto-graded question, one typical mistake loses exactly that question's
#      points): 3 graded executions of each chapter, most of the stage's time.
#
# Environment: CLASSROOM_VENV (default .venv-classroom), PYTHON (the interpreter that creates it; default python3).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VENV="${CLASSROOM_VENV:-.venv-classroom}"
START=$SECONDS
step() { echo "== classroom check [$((SECONDS - START)) s]: $*"; }

step "environment and assignments (make assignments)"
make --no-print-directory assignments CLASSROOM_VENV="$VENV" PYTHON="${PYTHON:-python3}"
"$VENV/bin/python" -c 'import otter, ipywidgets; print("   otter-grader", otter.__version__, "| ipywidgets", ipywidgets.__version__)'

step "student notebooks and grading (pytest)"
"$VENV/bin/python" -m pytest tests/test_student.py tests/test_classroom.py -p no:cacheprovider -q -s --durations=8
step "passed"
