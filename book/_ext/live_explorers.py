"""Sphinx extension: the cost explorers run live in the rendered book, on the library's own formulas.

A chapter marks where a live explorer goes with raw HTML in the markdown cell of its static twin::

    <div class="il-live" data-explorer="inception-module"><p class="il-live-fallback">how to get it</p></div>

On pages with such a marker this extension adds ``book/_live/live_explorers.{js,css}``; the script replaces the
fallback line with a "Run live" button, and on demand loads Pyodide (CPython compiled to WebAssembly), writes the
library's formula layer into its file system and calls :mod:`inception_lab.cost.explorers` with the slider values.
At the end of the build it copies into the site, under ``_live/``:

* ``py/``: the formula layer's ``.py`` files, copied from the package (one source of truth), and ``manifest.json``;
* ``pyodide/``: the Pyodide core (the npm package ``pyodide``, pinned below by version and checksum), fetched once
  from the npm registry by ``pooch`` into a cache outside the repository (``$INCEPTION_LAB_PYODIDE_CACHE``, default
  ``~/.cache/inception-lab/pyodide``); every build checks the cached tarball against the pinned checksum and
  extracts the core files from it afresh. Never committed.

Without the core (no network on the first build, or ``INCEPTION_LAB_PYODIDE=off``) the build still succeeds: the
log says so, and the pages keep their static twins with the line on how to get the live version.
``python book/_ext/live_explorers.py`` fills the cache ahead of time (``make pyodide``).
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ASSETS = ROOT / "book" / "_live"
PACKAGE = ROOT / "inception_lab"

#: The pinned Pyodide release (Python 3.13) and its npm tarball's ``dist.integrity`` (sha512 of the .tgz, base64:
#: what ``npm view pyodide@0.29.5 dist.integrity`` prints).
PYODIDE_VERSION = "0.29.5"
PYODIDE_TARBALL = f"https://registry.npmjs.org/pyodide/-/pyodide-{PYODIDE_VERSION}.tgz"
PYODIDE_INTEGRITY = "sha512-TkYrUv9m8QmfImADKRmpwZulL48E0uUaBSO+dvRQKyAJc0qh9gu7jn8btyHPh3NZm1r2IH2YrJhIr7Q2B9urAw=="
#: The same digest as pooch takes it (``algorithm:hex``).
PYODIDE_HASH = "sha512:" + base64.b64decode(PYODIDE_INTEGRITY.removeprefix("sha512-")).hex()
#: The core files a page needs, from the tarball's ``package/`` folder (no packages are loaded: the formula layer is
#: standard-library Python).
CORE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip",
              "pyodide-lock.json")
#: The torch-free formula layer, relative to the package: what the browser imports (tests/test_layout.py checks
#: that these import without torch; tests/test_live_explorers.py that they are enough for cost.explorers).
FORMULA_LAYER = ("__init__.py", "palette.py", "checks.py", "shapes.py", "cost/*.py")
MARKER = 'class="il-live"'


def cache_dir() -> pathlib.Path:
    """Where the core of :data:`PYODIDE_VERSION` is kept: ``$INCEPTION_LAB_PYODIDE_CACHE/<version>``."""
    base = os.environ.get("INCEPTION_LAB_PYODIDE_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
        base = pathlib.Path(xdg) / "inception-lab" / "pyodide"
    return pathlib.Path(base) / PYODIDE_VERSION


def ensure_core(folder: pathlib.Path | None = None, url: str = PYODIDE_TARBALL) -> tuple[pathlib.Path | None, str]:
    """The folder of the verified core files, or ``None`` and the reason there is none.

    pooch keeps the tarball in ``folder`` (default :func:`cache_dir`): it downloads it when missing or when its
    sha512 is not :data:`PYODIDE_HASH` (a file that does not match is never kept), and otherwise only checks it.
    The core files are then extracted from the verified tarball on every call, so the site gets exactly them.
    """
    if os.environ.get("INCEPTION_LAB_PYODIDE", "").lower() in ("0", "off", "no", "false"):
        return None, "INCEPTION_LAB_PYODIDE is off"
    import pooch

    pooch.get_logger().setLevel("WARNING")  # the build log says what happened, in one line
    folder = pathlib.Path(folder or cache_dir())
    tarball = folder / f"pyodide-{PYODIDE_VERSION}.tgz"
    how = "cached in" if tarball.is_file() else "fetched into"
    shutil.rmtree(folder / "core", ignore_errors=True)  # extracted afresh below, from the verified tarball
    members = [f"package/{name}" for name in CORE_FILES]
    try:
        pooch.retrieve(url, known_hash=PYODIDE_HASH, fname=tarball.name, path=folder, progressbar=False,
                       processor=pooch.Untar(members=members, extract_dir="core"))
    except (OSError, ValueError) as err:  # no network, HTTP errors (requests' are OSErrors), a checksum mismatch
        return None, f"could not fetch {url}: {err}"
    core = folder / "core" / "package"
    missing = [name for name in CORE_FILES if not (core / name).is_file()]
    return (None, f"{url} has no {missing}") if missing else (core, f"{how} {folder}")


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
