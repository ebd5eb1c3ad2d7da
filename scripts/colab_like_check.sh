#!/usr/bin/env bash
# Colab-like runtime check, as another machine (run by .ci/run after `make test`; `make colab-check` runs it alone).
#
# Colab differs from the pinned .venv in every way that broke chapters before: another Python (3.12), an older
# torch with its torchvision, ipywidgets 7 (which displays widgets through _ipython_display_, not
# _repr_mimebundle_), ipykernel 6, and the package installed non-editable from its release wheel by the first cell.
# This script builds such a runtime in a throw-away virtual environment and
#   1. preinstalls what Colab ships: torch, torchvision, ipywidgets 7.7, ipykernel 6 (7 is known to hang notebook
#      clients), matplotlib, numpy, tqdm; and the test harness at constraints.txt's pins (pytest, nbmake, xdist);
#   2. installs the project as the first cell does (pip install of the release wheel), the wheel built from a clone
#      of this repository's committed HEAD as the release workflow builds it (pip wheel --no-deps), and fails if
#      the first cell names another file or the install replaced the preinstalled torch, torchvision or ipywidgets;
#   3. executes every chapter, and chapter 1's student version (Otter's student notebook, made by
#      scripts/make_assignments.py with STUDENT_PYTHON, a Python with the classroom extra), in a folder outside the
#      repository (as on Colab, where benchmarks/results is absent) *as another machine*: ATen's generic kernels
#      (ATEN_CPU_CAPABILITY=default, which round as another processor's do), oneDNN capped at AVX2 and every seed
#      shifted (INCEPTION_LAB_SEED=1). nbmake fails on any error cell, so every hidden assert behind a claim of the
#      prose must hold here too, and on any cell running longer than CELL_TIMEOUT seconds (a hang fails in minutes);
#      scripts/check_widgets.py then fails on any explorer cell that displayed no widget.
#
# PyPI's torch for Linux x86_64 is a CUDA build: about 3 GB of wheels with its nvidia-* dependencies (torch 2.9.1:
# torch 858 MB, cudnn 674 MB, cublas 567 MB, ...). uv downloads them in parallel (about 45 s here from an empty
# cache) and, with its cache (~/.cache/uv) filled, links them into the new environment in seconds. pip itself is
# used for step 2, as on Colab.
#
# Environment: COLAB_PYTHON (a Python 3.12; default pyenv's 3.12.1, else python3.12 on PATH), COLAB_TORCH,
# COLAB_TORCHVISION, COLAB_IPYWIDGETS, COLAB_IPYKERNEL (versions to preinstall), CELL_TIMEOUT (seconds per cell,
# default 600), STUDENT_PYTHON (default .venv/bin/python: makes the student notebook), KEEP_COLAB_ENV=1 (keep the
# folder for debugging).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TORCH="${COLAB_TORCH:-2.9.1}"              # older than constraints.txt's pin, as Colab's usually is
TORCHVISION="${COLAB_TORCHVISION:-0.24.1}"  # torchvision's release for that torch
IPYWIDGETS="${COLAB_IPYWIDGETS:-7.7.*}"     # Colab ships ipywidgets 7.7.1
IPYKERNEL="${COLAB_IPYKERNEL:-6.17.1}"      # and ipykernel 6.17.1
CELL_TIMEOUT="${CELL_TIMEOUT:-600}"
# The same three variables as the Makefile's OTHER_MACHINE (`make other-machine`).
OTHER_MACHINE=(ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2 INCEPTION_LAB_SEED=1)
# Two notebooks run at a time (-n 2): one compute thread per kernel, or OpenMP's spinning threads fight over the
# cores (measured beside chapter 5: chapter 6 took 228 s, 99 s with one thread). Results do not change: the chapters
# set one thread on the CPU themselves (runtime.use_reproducible_threads), all but chapters 1 and 6.
ONE_THREAD=(OMP_NUM_THREADS=1 MKL_NUM_THREADS=1)
PY="${COLAB_PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x /root/.pyenv/versions/3.12.1/bin/python ]; then PY=/root/.pyenv/versions/3.12.1/bin/python
  else PY="$(command -v python3.12 || true)"; fi
fi
[ -n "$PY" ] && "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 12)' \
  || { echo "colab-like check: needs a Python 3.12 (set COLAB_PYTHON)"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/inception-lab-colab.XXXXXX")"
[ "${KEEP_COLAB_ENV:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
unset PYTHONPATH INCEPTION_LAB_SEED INCEPTION_LAB_DEVICE VIRTUAL_ENV
export JUPYTER_DATA_DIR="$WORK/jupyter" JUPYTER_CONFIG_DIR="$WORK/jupyter-config"  # only the venv's own kernel
START=$SECONDS
step() { echo "== colab-like check [$((SECONDS - START)) s]: $*"; }

step "Python $("$PY" -c 'import platform; print(platform.python_version())'), torch $TORCH, torchvision $TORCHVISION, ipywidgets $IPYWIDGETS, ipykernel $IPYKERNEL"
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
  echo "   note: uncommitted changes are not tested; the notebooks install the committed HEAD"
fi
"$PY" -m venv "$WORK/tools" && "$WORK/tools/bin/pip" install --quiet uv
"$PY" -m venv "$WORK/colab"
COLAB="$WORK/colab/bin/python"
step "preinstalling Colab's packages (uv)"
HARNESS=$(grep -E '^(pytest|pytest-xdist|execnet|nbmake|nbclient|nbformat)==' "$ROOT/constraints.txt")
# shellcheck disable=SC2086  # one requirement per word
"$WORK/tools/bin/uv" pip install --quiet --python "$COLAB" "torch==$TORCH" "torchvision==$TORCHVISION" \
  "ipywidgets==$IPYWIDGETS" "ipykernel==$IPYKERNEL" matplotlib numpy tqdm $HARNESS
versions() { "$COLAB" -c 'from importlib.metadata import version as v; print(*(f"{p}=={v(p)}" for p in ("torch", "torchvision", "ipywidgets", "ipykernel")))'; }
BEFORE="$(versions)"
echo "   preinstalled: $BEFORE"

step "installing the project as the notebooks' first cell does (pip install of the release wheel, non-editable)"
git clone --quiet --no-checkout "$ROOT" "$WORK/clone"
git -C "$WORK/clone" checkout --quiet "$(git -C "$ROOT" rev-parse HEAD)"  # this checkout's commit, not the default branch
VERSION="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$WORK/clone/inception_lab/__init__.py")"
grep -qF "LIBRARY_VERSION = \\\"$VERSION\\\"" "$ROOT"/notebooks/01_*.ipynb \
  || { echo "FAIL: the notebooks do not pin version $VERSION (run scripts/pin_notebooks.py)"; exit 1; }
# The first cell downloads .../releases/download/v$VERSION/<wheel> from the repository (scripts/pin_notebooks.py);
# .github/workflows/release.yml builds that wheel with this command and attaches it to the release. Here HEAD plays it.
"$COLAB" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$WORK/dist" "$WORK/clone"
WHEEL="inception_lab-$VERSION-py3-none-any.whl"
[ -f "$WORK/dist/$WHEEL" ] || { echo "FAIL: pip wheel wrote $(ls "$WORK/dist"), not $WHEEL"; exit 1; }
# What the first cell would install where inception_lab is missing: run it with pip's call recorded, not made.
URL="$(cd "$WORK" && "$COLAB" - "$ROOT"/notebooks/01_*.ipynb <<'PY'
import importlib.util, json, pathlib, subprocess, sys
cell = next(c for c in json.loads(pathlib.Path(sys.argv[1]).read_text())["cells"] if c["cell_type"] == "code")
find_spec, calls = importlib.util.find_spec, []
importlib.util.find_spec = lambda name, *args: None if name == "inception_lab" else find_spec(name, *args)
subprocess.run = lambda args, **kwargs: calls.append(args)
exec("".join(cell["source"]), {})
print(calls[0][-1] if calls else "(nothing)")
PY
)"
case "$URL" in
  https://github.com/*/releases/download/"v$VERSION/$WHEEL") echo "   the first cell installs $URL" ;;
  *) echo "FAIL: the first cell installs $URL, not the release wheel $WHEEL (run scripts/pin_notebooks.py)"; exit 1 ;;
esac
"$COLAB" -m pip install --quiet --disable-pip-version-check "$WORK/dist/$WHEEL"
AFTER="$(versions)"
if [ "$BEFORE" != "$AFTER" ]; then
  echo "FAIL: installing the project replaced preinstalled packages: $BEFORE -> $AFTER"; exit 1
fi
(cd "$WORK" && "$COLAB" -c '
import importlib.util, pathlib
spec = importlib.util.find_spec("inception_lab")
where = pathlib.Path(spec.origin).parent
assert "site-packages" in str(where), f"inception_lab imported from {where}, not the installed package"
assert (where / "weights" / "mini_googlenet.pt").is_file(), "the shipped weights were not installed"
print("   installed:", where)')

step "executing every chapter and chapter 1's student version outside the repository, as another machine"
mkdir -p "$WORK/run"
cp "$WORK"/clone/notebooks/[0-9][0-9]_*.ipynb "$WORK/run/"
STUDENT_PY="${STUDENT_PYTHON:-$ROOT/.venv/bin/python}"
case "$STUDENT_PY" in  # a relative path (.ci/run and the Makefile pass .venv/bin/python) is the caller's: make it absolute
  /*) ;;
  */*) STUDENT_PY="$PWD/$STUDENT_PY" ;;
esac
(cd "$WORK/clone" && "$STUDENT_PY" scripts/make_assignments.py --out "$WORK/assignments" --student-dir "$WORK/run/student" \
  notebooks/01_*.ipynb > /dev/null)
echo "   ${OTHER_MACHINE[*]}"
(cd "$WORK/run" && env "${ONE_THREAD[@]}" "${OTHER_MACHINE[@]}" "$COLAB" -m pytest -p no:cacheprovider --nbmake \
  --overwrite --nbmake-timeout="$CELL_TIMEOUT" -n 2 --dist loadfile --durations=0 ./*.ipynb student/*.ipynb)
"$COLAB" "$WORK/clone/scripts/check_widgets.py" --committed "$WORK/clone/notebooks" "$WORK"/run/*.ipynb \
  "$WORK"/run/student/*.ipynb
# The student version's exercise cells call their checkers with no answer: feedback ("Not yet ..."), no error.
grep -q "Not yet" "$WORK"/run/student/01_*.ipynb \
  || { echo "FAIL: the student notebook shows no exercise feedback"; exit 1; }
step "passed"
