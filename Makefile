# Inception Lab: one entry point for the book, the tests and the notebooks.
#   make book       build the HTML book (notebooks executed; outputs cached in _build/.jupyter_cache)
#   make test       lint, then every test on both cores: library, environment, strict nbval on every notebook, the book
#   make test-fast  the library tests only (no notebooks, no book, no browser): about a minute
#   make lint       ruff and the import contracts (lint-imports; pyproject.toml has both configurations)
#   make notebooks  re-execute every notebook in place (refresh the committed outputs)
#   make other-machine  run every notebook as another machine would (ATEN_CPU_CAPABILITY=default, another seed)
#   make colab-check    Colab-like runtime, as another machine: Python 3.12, older torch, ipywidgets 7, the wheel
#   make assignments  per-chapter assignments in Otter-Grader's format (autograder zips, student notebooks, rubrics)
#   make student    the assignments' student notebooks (solutions removed, outputs cleared) copied to student/
#   make classroom-check  grade reference, untouched and one-mistake notebooks with otter run (CLASSROOM_CHAPTERS)
#   make bench      run the benchmarks and write their results files (hours: the recorded runs of the chapters)
#   make bench-perf the performance suite: CPU limits, presets vs peak, Inception-v3 by layer kind, ours vs torchvision
#   make pyodide    fetch the pinned Pyodide core for the live explorers into its cache (the book build does it too)
# Each target creates .venv if missing and installs the pinned set from constraints.txt (colab-check builds its own).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
# Both cores; one file (one notebook) per worker, so nbval's cells of a notebook share one kernel in order.
PARALLEL := -n 2 --dist loadfile
# "Another machine": ATen's generic kernels, oneDNN capped at AVX2, every seed shifted by 1 (runtime.SEED_ENV).
# scripts/colab_like_check.sh sets the same three variables.
OTHER_MACHINE := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2 INCEPTION_LAB_SEED=1
CELL_TIMEOUT ?= 600
# Notebooks executed two at a time: one compute thread per kernel, or OpenMP's spinning threads fight over the two
# cores (measured beside chapter 5: chapter 6 took 228 s, 99 s with one thread). tests/conftest.py does the same
# for make test.
ONE_THREAD := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: help venv book test test-fast lint notebooks other-machine colab-check assignments student classroom-check \
	bench bench-perf pyodide lock clean

help:
	@sed -n '2,16p' Makefile

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book,test,classroom]"
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	mkdir -p _build && $(PY) scripts/book_config.py --execute > _build/config-execute.yml
	$(VENV)/bin/jupyter-book build . -W --keep-going --config _build/config-execute.yml
	@echo "Book built: file://$(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

test: lint
	$(PY) -m pytest $(PARALLEL) $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest tests $(PARALLEL) -m "not book and not slow and not classroom"

notebooks: $(STAMP)
	$(PY) scripts/execute_notebooks.py $(NOTEBOOKS)

# nbmake runs each notebook top to bottom and fails on the first error (outputs are not compared, nothing is written).
other-machine: $(STAMP)
	$(ONE_THREAD) $(OTHER_MACHINE) $(PY) -m pytest -o addopts="" -p no:cacheprovider --nbmake \
		--nbmake-timeout=$(CELL_TIMEOUT) $(PARALLEL) --durations=0 $(NOTEBOOKS)

colab-check: $(STAMP)
	STUDENT_PYTHON=$(PY) bash scripts/colab_like_check.sh

# Classroom (teachers): otter-grader is in the `classroom` extra, installed into .venv by make (readers and Colab do
# not install it). The grading tests (tests/test_classroom.py, marker `classroom`) run each chapter's notebook three
# times, so make test leaves them out; CLASSROOM_CHAPTERS=01,04 grades a subset.
assignments: $(STAMP)
	$(PY) scripts/make_assignments.py

student: $(STAMP)
	$(PY) scripts/make_assignments.py --student-dir student

classroom-check: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest -o addopts="" -p no:cacheprovider -m classroom $(PARALLEL) --durations=0 \
		tests/test_classroom.py tests/test_student.py

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

bench-perf: $(STAMP)
	$(PY) benchmarks/bench_perf.py
	$(PY) scripts/readme_perf.py

pyodide: $(STAMP)
	$(PY) book/_ext/live_explorers.py

lock: $(STAMP)
	{ sed -n '1,3p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^inception'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf _build .pytest_cache student assignments/dist

# make release VERSION=x.y.z: bump, re-pin the notebooks, strict nbval, changelog, commit, tag (scripts/release.py)
.PHONY: release
release: $(STAMP)
	$(PY) scripts/release.py "$(VERSION)"
