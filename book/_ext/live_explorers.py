"""Sphinx extension: the cost explorers run live in the rendered book, on the library's own formulas (issue 15).

A chapter marks where a live explorer goes with raw HTML in the markdown cell of its static twin::

    <div class="il-live" data-explorer="inception-module"><p class="il-live-fallback">how to get it</p></div>

On pages with such a marker this extension adds ``book/_live/live_explorers.{js,css}``; the script replaces the
fallback line with a "Run live" button, and on demand loads Pyodide (CPython compiled to WebAssembly), writes the
library's formula layer into its file system and calls :mod:`inception_lab.cost.explorers` with the slider values.
At the end of the build it copies into the site, under ``_live/``:

* ``py/``: the formula layer's ``.py`` files, copied from the package (one source of truth), and ``manifest.json``;
* ``pyodide/``: the Pyodide core (the npm package ``pyodide``, pinned below by version and checksum), fetched once
  from the npm registry into a cache outside the repository (``$INCEPTION_LAB_PYODIDE_CACHE``, default
  ``~/.cache/inception-lab/pyodide``) and verified file by file on every build. Never committed.

Without the core (no network on the first build, or ``INCEPTION_LAB_PYODIDE=off``) the build still succeeds: the
log says so, and the pages keep their static twins with the line on how to get the live version.
``python book/_ext/live_explorers.py`` fills the cache ahead of time (``make pyodide``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import pathlib
import shutil
import tarfile
import urllib.request
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ASSETS = ROOT / "book" / "_live"
PACKAGE = ROOT / "inception_lab"

#: The pinned Pyodide release (Python 3.13) and its npm tarball's ``dist.integrity`` (sha512 of the .tgz).
PYODIDE_VERSION = "0.29.5"
PYODIDE_TARBALL = f"https://registry.npmjs.org/pyodide/-/pyodide-{PYODIDE_VERSION}.tgz"
PYODIDE_INTEGRITY = "sha512-TkYrUv9m8QmfImADKRmpwZulL48E0uUaBSO+dvRQKyAJc0qh9gu7jn8btyHPh3NZm1r2IH2YrJhIr7Q2B9urAw=="
#: The core files a page needs (no packages are loaded: the formula layer is standard-library Python), with the
#: sha256 of each as extracted from that verified tarball.
CORE_FILES = {
    "pyodide.js": "7f832a350240263d9946a9c3c877f7bcdab6c37d6dc65f72cd3be5905dca62dd",
    "pyodide.mjs": "510ca14305230018f50c40fb81be673afd68080e70ce7733fcce6600dd6a1714",
    "pyodide.asm.js": "356c42f69e1695397e9d8670bd3c2e678248cde76e18bdae1731e848537b47d7",
    "pyodide.asm.wasm": "54309a5a2cfd757b1f0fdbc9093c92503f7b341500110329d932487183912718",
    "python_stdlib.zip": "831fd1e535084b972f87c6a35275de3d236efd5166f5e77ce89497710635e73c",
    "pyodide-lock.json": "14d2c2dba101277999e17135e653d8f15389ad1437f53eae213bf0c3cdff723d",
}
#: The torch-free formula layer, relative to the package: what the browser imports (tests/test_layout.py checks
#: that these import without torch; tests/test_live_explorers.py that they are enough for cost.explorers).
FORMULA_LAYER = ("__init__.py", "palette.py", "checks.py", "shapes.py", "cost/*.py")
MARKER = 'class="il-live"'


def cache_dir() -> pathlib.Path:
    """Where the verified core of :data:`PYODIDE_VERSION` is kept: ``$INCEPTION_LAB_PYODIDE_CACHE/<version>``."""
    base = os.environ.get("INCEPTION_LAB_PYODIDE_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
        base = pathlib.Path(xdg) / "inception-lab" / "pyodide"
    return pathlib.Path(base) / PYODIDE_VERSION


def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_core(folder: pathlib.Path) -> str | None:
    """``None`` if ``folder`` holds every core file with its pinned checksum, else what is wrong."""
    for name, digest in CORE_FILES.items():
        path = folder / name
        if not path.is_file():
            return f"{path} is missing"
        if _sha256(path) != digest:
            return f"{path} does not match its pinned sha256"
    return None


def integrity(data: bytes) -> str:
    """npm's ``dist.integrity`` of a tarball: ``sha512-`` and the base64 digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch_core(folder: pathlib.Path, url: str = PYODIDE_TARBALL, timeout: float = 60) -> None:
    """Download the npm tarball, check it against :data:`PYODIDE_INTEGRITY`, extract the core files into ``folder``.

    Raises:
        OSError: the download failed; ValueError: the tarball is not the pinned one (nothing is written then).
    """
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data = response.read()
    if integrity(data) != PYODIDE_INTEGRITY:
        raise ValueError(f"{url} does not match the pinned integrity {PYODIDE_INTEGRITY}; refusing to use it.")
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for name in CORE_FILES:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise ValueError(f"{url} has no package/{name}.")
            (folder / f"{name}.part").write_bytes(member.read())
    for name in CORE_FILES:  # all or nothing
        (folder / f"{name}.part").replace(folder / name)


def ensure_core(folder: pathlib.Path | None = None, url: str = PYODIDE_TARBALL) -> tuple[pathlib.Path | None, str]:
    """The verified core folder (fetched into the cache when missing), or ``None`` and the reason there is none."""
    if os.environ.get("INCEPTION_LAB_PYODIDE", "").lower() in ("0", "off", "no", "false"):
        return None, "INCEPTION_LAB_PYODIDE is off"
    folder = folder or cache_dir()
    if verify_core(folder) is None:
        return folder, f"cached in {folder}"
    try:
        fetch_core(folder, url)
    except (OSError, ValueError) as err:
        return None, f"could not fetch {url}: {err}"
    problem = verify_core(folder)
    return (None, problem) if problem else (folder, f"fetched into {folder}")


def formula_layer_files() -> list[str]:
    """The formula layer's files, relative to the package, sorted."""
    files = {p.relative_to(PACKAGE).as_posix() for pattern in FORMULA_LAYER for p in PACKAGE.glob(pattern)}
    return sorted(files)


def write_live_files(outdir: pathlib.Path, core: pathlib.Path | None) -> None:
    """Write ``_live/py`` (formula layer + manifest) and, when ``core`` is given, ``_live/pyodide`` into ``outdir``."""
    live = pathlib.Path(outdir) / "_live"
    py = live / "py"
    shutil.rmtree(py, ignore_errors=True)
    files = formula_layer_files()
    for name in files:
        (py / "inception_lab" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE / name, py / "inception_lab" / name)
    dirs = sorted({str(pathlib.PurePosixPath("inception_lab", name).parent) for name in files})
    manifest = {"files": [f"inception_lab/{name}" for name in files], "dirs": dirs,
                "module": "inception_lab.cost.explorers", "pyodide": PYODIDE_VERSION if core else None}
    (py / "manifest.json").write_text(json.dumps(manifest, indent=1))
    target = live / "pyodide"
    shutil.rmtree(target, ignore_errors=True)  # a site without the core must not keep an old one
    if core is not None:
        target.mkdir(parents=True)
        for name in CORE_FILES:
            shutil.copyfile(core / name, target / name)


# --- Sphinx hooks --------------------------------------------------------------------------------------------------
def _config_inited(app: Any, config: Any) -> None:
    config.html_static_path = list(config.html_static_path) + [str(ASSETS)]


def _builder_inited(app: Any) -> None:
    from sphinx.util import logging

    core, how = (None, "not an HTML build") if app.builder.format != "html" else ensure_core()
    app.env.il_live_core = core  # type: ignore[attr-defined]
    message = (f"live explorers: Pyodide {PYODIDE_VERSION} core {how}" if core else
               f"live explorers: no Pyodide core ({how}); building static twins only")
    logging.getLogger(__name__).info(message)


def _page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if MARKER not in context.get("body", ""):
        return
    core = getattr(app.env, "il_live_core", None)
    # The builder's own lists: this page only (Sphinx restores them after each page), under _static/.
    app.builder.add_css_file("live_explorers.css")
    app.builder.add_js_file("live_explorers.js", defer="defer", **{"data-pyodide": PYODIDE_VERSION if core else ""})


def _build_finished(app: Any, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        write_live_files(pathlib.Path(app.outdir), getattr(app.env, "il_live_core", None))


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":  # `make pyodide`: fill the cache ahead of a build
    found, why = ensure_core()
    print(f"Pyodide {PYODIDE_VERSION}: {why}")
    raise SystemExit(0 if found else 1)
