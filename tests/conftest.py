"""Shared fixtures, and the settings every test runs with."""

import os
import pathlib
import shutil
import subprocess
import sys

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn off screen, before any test imports matplotlib

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
    """A script or build hook of the repository (not part of the package) imported from its file."""
    import importlib.util

    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def built_book():
    jb = shutil.which("jupyter-book", path=str(pathlib.Path(sys.executable).parent))
    assert jb, "jupyter-book is not installed in this environment"
    result = subprocess.run([jb, "build", str(ROOT), "-W", "--keep-going", "--all"], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "build succeeded" in result.stdout
    return HTML


# --- The rendered book in a real browser (Playwright driving Debian's Chromium; never a downloaded browser) ---

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright. Skipped locally without Chromium; CI (`.ci/run`) installs it."""
    import os

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
    import functools
    import http.server
    import threading

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest's output clean
            pass

    handler = functools.partial(QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
