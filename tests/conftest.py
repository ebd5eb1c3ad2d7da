"""Shared fixtures, and the settings every test runs with."""

import contextlib
import os
import pathlib
import shutil
import subprocess
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn off screen, before any test imports matplotlib
if os.environ.get("PYTEST_XDIST_WORKER"):
    # pytest-xdist's workers share the cores: one compute thread each (and each notebook kernel they start), or
    # OpenMP's spinning threads fight over the cores and every torch test runs several times slower.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Property-based tests (hypothesis): "ci" bounds the examples so `make test` stays fast and its time predictable;
# "dev" explores more (HYPOTHESIS_PROFILE=dev). No example database is written into the repository.
settings.register_profile("ci", max_examples=60, deadline=None, database=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=500, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


def load_module(relative_path: str):
    """A script or build hook of the repository (not part of the package) imported from its file.

    The module is registered under its file's stem, as an import would be: dataclasses defined in it need that.
    """
    import importlib.util

    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = sys.modules[path.stem] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def cpu_threads(n: int):
    """Run the block with ``torch.set_num_threads(n)`` and restore the previous count afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture
def one_cpu_thread():
    """One CPU thread for this test (sums in a fixed order, as the shipped weights were trained), then restored."""
    with cpu_threads(1):
        yield


def pytest_collection_modifyitems(config, items):
    """Tests that need the built book are marked ``book`` (``make test-fast`` leaves them out, and ``slow`` ones)."""
    for item in items:
        if "built_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.book)


def _build_book() -> None:
    jb = shutil.which("jupyter-book", path=str(pathlib.Path(sys.executable).parent))
    assert jb, "jupyter-book is not installed in this environment"
    start = time.perf_counter()
    result = subprocess.run([jb, "build", str(ROOT), "-W", "--keep-going", "--all"], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "build succeeded" in result.stdout
    # scripts/time_ci.sh reports the build's duration (issue 22: the book build from a clean cache)
    (ROOT / "_build" / "book_build_seconds.txt").write_text(f"{time.perf_counter() - start:.1f}\n")


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The book built from the committed outputs (``-W``: no warnings), once per test run.

    Under pytest-xdist every worker asks for it; the first builds (under a file lock) and the others reuse its build.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        _build_book()
        return HTML
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # one folder per test run, shared by its workers
    with FileLock(str(shared / "book.lock")):
        if not (shared / "book.built").is_file():
            _build_book()
            (shared / "book.built").write_text(str(HTML))
    return HTML


# --- The rendered book in a real browser (Playwright driving Debian's Chromium; never a downloaded browser) ---

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright. Skipped locally without Chromium; CI (`.ci/run`) installs it."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            raise RuntimeError("Chromium is required in CI (apt-get install chromium); .ci/run installs it.")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-gpu", "--disable-quic"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def served_book(built_book):
    """The built book on a loopback HTTP server (Pyodide and fetch() need http://, not file://); yields its URL."""
    with load_module("scripts/serve_book.py").serve(built_book) as url:
        yield url
