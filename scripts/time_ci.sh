#!/usr/bin/env bash
# Time CI from a fresh clone: clone this checkout's HEAD into a temporary folder, run .ci/run there, and print the
# time of each stage and of the two targets of issue 22 (`make test` with its install <= 8 min, `.ci/run` <= 12 min).
#
# Usage: bash scripts/time_ci.sh [--keep]     (--keep leaves the clone and its log in the temporary folder)
#
# Run it on an otherwise idle machine: on shared cores the times measure the neighbours. The machine (CPU model,
# cores) and the load average before and after are printed with the times. Caches outside the clone are used as
# they are (pip's and uv's download caches, the Pyodide cache): say which were warm when you quote the numbers.
# Writes benchmarks/results/ci_time.{json,md} in this checkout (scripts/ci_time_report.py): the stages, each
# notebook's strict nbval time (pytest's JUnit report) and the book build's duration.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/inception-lab-ci.XXXXXX")"
[ "${1:-}" = "--keep" ] || trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/ci.log"

git clone --quiet --no-checkout "$ROOT" "$WORK/repo"
git -C "$WORK/repo" checkout --quiet "$(git -C "$ROOT" rev-parse HEAD)"
cpu="$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "commit $(git -C "$ROOT" rev-parse --short HEAD); $cpu, $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$SECONDS
status=0
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
(cd "$WORK/repo" && CI_JUNIT="$WORK/junit.xml" ./.ci/run) > "$LOG" 2>&1 || status=$?
total=$((SECONDS - start))
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "load after: $load_after; .ci/run exit status $status (log: $LOG)"
[ "$status" = 0 ] || tail -40 "$LOG"

seconds() { sed -n "s/^== stage $1: \([0-9]*\) s$/\1/p" "$LOG"; }
grep '^== stage' "$LOG" || true
grep -E '^=+ .*(passed|failed).* in [0-9.]+s' "$LOG" || true  # pytest's summary lines
venv=$(seconds venv); tests=$(seconds test)
[ -n "$venv" ] && [ -n "$tests" ] && echo "make test from a fresh clone (install + tests): $((venv + tests)) s (target <= 480 s)"
echo ".ci/run: $total s (target <= 720 s)"
"$WORK/repo/.venv/bin/python" "$ROOT/scripts/ci_time_report.py" "$LOG" "$WORK/junit.xml" \
  "$WORK/repo/_build/book_build_seconds.txt" "$total" "$status" "$load_before" "$load_after" >/dev/null || true
exit "$status"
