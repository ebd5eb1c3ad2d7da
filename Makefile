# Inception Lab: one entry point for the book, the tests and the notebooks.
#   make book       build the HTML book (notebooks executed; outputs cached in _build/.jupyter_cache)
#   make test       every test: library, environment, nbval on every notebook, the book build with -W
#   make notebooks  re-execute every notebook in place (refresh the committed outputs)
#   make other-machine  run every notebook as another machine would (ATEN_CPU_CAPABILITY=default, another seed)
#   make colab-check    Colab-like runtime: Python 3.12, older torch, ipywidgets 7, project installed from git
#   make assignments  per-chapter assignments in Otter-Grader's format (autograder zips, student notebooks, rubrics)
#   make student    the assignments' student notebooks (solutions removed, outputs cleared) copied to student/
#   make bench      run the benchmarks and write their results files
#   make pyodide    fetch the pinned Pyodide core for the live explorers into its cache (the book build does it too)
# Each target creates .venv if missing and installs the pinned set from constraints.txt (colab-check builds its own).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))

.PHONY: help venv book test test-fast notebooks other-machine colab-check assignments student bench pyodide lock clean

help:
	@sed -n '2,12p' Makefile

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book,test]"
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	mkdir -p _build && $(PY) scripts/book_config.py --execute > _build/config-execute.yml
	$(VENV)/bin/jupyter-book build . -W --keep-going --config _build/config-execute.yml
	@echo "Book built: file://$(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not slow"

notebooks: $(STAMP)
	$(PY) scripts/execute_notebooks.py $(NOTEBOOKS)

other-machine: $(STAMP)
	$(PY) scripts/check_notebooks.py --other-machine $(NOTEBOOKS)

colab-check:
	bash scripts/colab_like_check.sh

# Classroom (teachers): otter-grader lives in its own environment, so .venv (and `make test`) stays without it;
# scripts/classroom_check.sh runs the grading tests there.
CLASSROOM_VENV  ?= .venv-classroom
CLASSROOM_STAMP := $(CLASSROOM_VENV)/.installed

$(CLASSROOM_STAMP): pyproject.toml constraints.txt
	test -x $(CLASSROOM_VENV)/bin/python || $(PYTHON) -m venv $(CLASSROOM_VENV)
	$(CLASSROOM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CLASSROOM_VENV)/bin/python -m pip install --quiet -c constraints.txt -e ".[classroom,test]"
	touch $(CLASSROOM_STAMP)

assignments: $(CLASSROOM_STAMP)
	$(CLASSROOM_VENV)/bin/python scripts/make_assignments.py

student: $(CLASSROOM_STAMP)
	$(CLASSROOM_VENV)/bin/python scripts/make_assignments.py --student-dir student

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

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
