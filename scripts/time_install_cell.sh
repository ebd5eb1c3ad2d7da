#!/usr/bin/env bash
# Wall time of the two ways the notebooks' first cell could install the library, in a Colab-like environment:
# `pip install <release wheel URL>` (what it does) against `pip install git+<repository>@v<version>` (what it did).
#
# Usage: COLAB_VENV=/path/to/venv bash scripts/time_install_cell.sh [runs]
# COLAB_VENV is a Python 3.12 virtual environment with Colab's packages preinstalled, e.g. the one
# `KEEP_COLAB_ENV=1 bash scripts/colab_like_check.sh` leaves (its colab/ folder) after removing inception-lab.
# Each run starts from a cold pip cache, as a fresh Colab VM does, and uninstalls what it installed afterwards
# (inception-lab and torchinfo, the one requirement Colab lacks). The network is replaced by local stand-ins, so
# the times are the install work alone: the wheel built from HEAD and served over loopback HTTP, and a clone of
# HEAD tagged v<version>. Download sizes are printed separately (the wheel; the tree at the tag, compressed).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${1:-3}"
PY="${COLAB_VENV:?set COLAB_VENV to a Colab-like virtual environment}/bin/python"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/inception-lab-install.XXXXXX")"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export PIP_CONFIG_FILE=/dev/null PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_CONSTRAINT

git clone --quiet "$ROOT" "$WORK/repo"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$WORK/repo/inception_lab/__init__.py")"
git -C "$WORK/repo" tag -f "v$VERSION" >/dev/null
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$WORK/repo"
WHEEL="inception_lab-$VERSION-py3-none-any.whl"
echo "python: $("$PY" --version), $("$PY" -m pip --version | cut -d' ' -f1-2)"
echo "download: wheel $(stat -c %s "$WORK/dist/$WHEEL") bytes; tree at v$VERSION" \
  "$(git -C "$WORK/repo" archive --format=tar.gz "v$VERSION" | wc -c) bytes (tar.gz)"
"$PY" -m http.server --bind 127.0.0.1 --directory "$WORK/dist" 8765 >/dev/null 2>&1 &
SERVER=$!
sleep 1

clean() { "$PY" -m pip uninstall --quiet --yes inception-lab torchinfo >/dev/null 2>&1 || true; }
timed() {  # label, pip argument
  clean
  local start end
  start=$(date +%s.%N)
  "$PY" -m pip install --quiet "$2"
  end=$(date +%s.%N)
  printf '%s %.2f s\n' "$1" "$(echo "$end - $start" | bc)"
}
clean
for _ in $(seq "$RUNS"); do
  timed "git tag:     " "git+file://$WORK/repo@v$VERSION"
  timed "release wheel:" "http://127.0.0.1:8765/$WHEEL"
done
clean
