"""Write the library version into every notebook's first cell, so a notebook installs the library it was written for.

Usage:
    python scripts/pin_notebooks.py [--check] notebooks/*.ipynb

On Colab or Binder the first cell of each chapter installs ``inception-lab`` from the repository at the git tag
``v<version>``, where ``<version>`` is ``inception_lab.__version__`` (the one place the version is written; pyproject
reads it). Release steps (CONTRIBUTING.md): bump ``__version__``, run this script, commit, tag ``v<version>``.
``--check`` changes nothing and exits 1 when a notebook's first cell is not the current one (the tests run it).
The cell never touches torch, torchvision or ipywidgets: the library requires ``torch>=2.1`` and pip keeps what
the runtime already has.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/inception-lab/inception-lab"


def library_version() -> str:
    """``__version__`` read from the source file (no import: works before the package is installed)."""
    text = (ROOT / "inception_lab" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([0-9]+\.[0-9]+\.[0-9]+)"$', text, re.M)
    if match is None:
        raise SystemExit("inception_lab/__init__.py has no line __version__ = \"X.Y.Z\"")
    return match.group(1)


def install_cell(version: str) -> str:
    """The source of every notebook's first code cell."""
    return f'''# Setup: on Colab or Binder, install the library version this notebook was written for (a git tag).
# Nothing happens where inception_lab is already installed; torch and ipywidgets are never replaced.
import importlib.metadata
import importlib.util
import subprocess
import sys

LIBRARY_VERSION = "{version}"
if importlib.util.find_spec("inception_lab") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"git+{REPOSITORY}@v{{LIBRARY_VERSION}}"], check=True)
elif importlib.metadata.version("inception-lab") != LIBRARY_VERSION:
    print(f"note: inception-lab {{importlib.metadata.version('inception-lab')}} is installed; "
          f"this notebook was written for {{LIBRARY_VERSION}}")'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--check", action="store_true", help="report notebooks that are out of date; change nothing")
    args = parser.parse_args()
    expected = install_cell(library_version())
    stale = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        if first.source == expected:
            continue
        stale.append(path)
        if not args.check:
            first.source = expected
            nbformat.write(nb, path)
            print(f"pinned {path}")
    if args.check and stale:
        print("first cell out of date (run scripts/pin_notebooks.py):", *map(str, stale), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
