"""Pin what a reader meets to this repository and this library version: the notebooks' first cell and the README.

Usage:
    python scripts/pin_notebooks.py [--check] [notebooks/*.ipynb]

The repository is named in one place, ``repository.url`` (and ``repository.branch``) of ``_config.yml``: the book's
launch buttons read it (jupyter-book), the book's pages read it (``book/_ext/book_facts.py`` imports this file), and
this script writes it into

* every chapter's first code cell, which on Colab or Binder installs ``inception-lab`` from that repository at the
  git tag ``v<version>``, where ``<version>`` is ``inception_lab.__version__`` (the one place the version is written;
  pyproject reads it), so a notebook and its library always match;
* the README's Colab badge and its "Published book" line (the GitHub Pages address derived from the repository).

A fork changes ``repository.url`` once and runs this script (``tests/test_fork.py`` checks that every place follows).
``scripts/release.py`` runs it after bumping the version. ``--check`` changes nothing and exits 1 when a notebook's
first cell or the README is not what this script would write (the tests run it). The cell never touches torch,
torchvision or ipywidgets: the library requires ``torch>=2.1`` and pip keeps what the runtime already has.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
from typing import NamedTuple

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIRST_NOTEBOOK = "notebooks/01_inception_module.ipynb"  # the chapter the README's Colab badge opens
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$")


class Repository(NamedTuple):
    """Where the book lives: the GitHub repository of ``_config.yml`` and the branch its launch buttons open."""

    owner: str
    name: str
    branch: str

    @property
    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"

    @property
    def book_url(self) -> str:
        """The GitHub Pages address the Pages workflow publishes to (a ``<owner>.github.io`` repository is the root)."""
        host = f"{self.owner.lower()}.github.io"
        return f"https://{host}/" if self.name.lower() == host else f"https://{host}/{self.name}/"

    def colab_url(self, notebook: str) -> str:
        return f"https://colab.research.google.com/github/{self.owner}/{self.name}/blob/{self.branch}/{notebook}"

    def file_url(self, path: str) -> str:
        """A file of the branch, as GitHub shows it (the changelog, linked from the book)."""
        return f"{self.url}/blob/{self.branch}/{path}"


def repository(root: pathlib.Path = ROOT) -> Repository:
    """``repository.url`` and ``repository.branch`` of ``<root>/_config.yml``; a clear error for anything else."""
    config = yaml.safe_load((root / "_config.yml").read_text()) or {}
    section = config.get("repository") or {}
    url = str(section.get("url", ""))
    match = _GITHUB.match(url)
    if match is None:
        raise SystemExit(f"_config.yml: repository.url must be a GitHub repository, https://github.com/OWNER/NAME; "
                         f"got {url!r}")
    branch = str(section.get("branch", "main"))
    return Repository(match["owner"], match["name"], branch)


def library_version(root: pathlib.Path = ROOT) -> str:
    """``__version__`` read from the source file (no import: works before the package is installed)."""
    text = (root / "inception_lab" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([0-9]+\.[0-9]+\.[0-9]+)"$', text, re.M)
    if match is None:
        raise SystemExit("inception_lab/__init__.py has no line __version__ = \"X.Y.Z\"")
    return match.group(1)


def wheel_name(version: str) -> str:
    """The file name ``pip wheel`` gives the release wheel (project ``inception-lab``, pure Python)."""
    return f"inception_lab-{version}-py3-none-any.whl"


def wheel_url(version: str, repository_url: str) -> str:
    """Where the release workflow attaches the wheel: the GitHub release of the tag ``v<version>``."""
    return f"{repository_url}/releases/download/v{version}/{wheel_name(version)}"


def install_cell(version: str, repository_url: str | None = None) -> str:
    """The source of every notebook's first code cell (the repository defaults to ``_config.yml``'s).

    On Colab it installs ``wheel_url(version)`` (the wheel the release workflow attached to the release of the tag
    ``v<version>``), not ``git+<repository>@v<version>``. ``scripts/time_install_cell.sh`` times both in the
    Colab-like runtime of ``scripts/colab_like_check.sh`` (Python 3.12, torch 2.9.1 preinstalled, pip 23.2.1, cold
    pip cache, local stand-ins for GitHub): the wheel took 4.2-4.4 s and the git tag 10.4-11.4 s (3 runs each, a
    quiet 2-core machine; 9.1-12.7 s and 25.6-30.3 s at a load average of 8), because the git install clones,
    downloads setuptools into an isolated build environment and builds the wheel on the reader's side. The wheel is
    also 1.3 MB against 5.5 MB for the tag's tree (compressed), and needs no git. Its cost is on the release side:
    the wheel exists only once the release workflow has attached it (``scripts/release.py`` says to push the tag
    first and the branch after). Binder installs the checkout itself (``environment.yml``): the cell does nothing.
    """
    release = f"{repository_url or repository().url}/releases/download"
    return f'''# Setup: on Colab, install the library version this notebook was written for (its release wheel).
# Nothing happens where inception_lab is already installed; torch and ipywidgets are never replaced.
import importlib.metadata
import importlib.util
import subprocess
import sys

LIBRARY_VERSION = "{version}"
if importlib.util.find_spec("inception_lab") is None:
    RELEASE = f"{release}/v{{LIBRARY_VERSION}}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"{{RELEASE}}/{wheel_name("{LIBRARY_VERSION}")}"], check=True)
elif importlib.metadata.version("inception-lab") != LIBRARY_VERSION:
    print(f"note: inception-lab {{importlib.metadata.version('inception-lab')}} is installed; "
          f"this notebook was written for {{LIBRARY_VERSION}}")'''


# The README lines this script owns: the Colab badge's target and the published book's address.
_COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^\s)]+?\.ipynb")
_BOOK_LINE = re.compile(r"^\*\*Published book:\*\* .*$", re.M)


def readme_text(text: str, repo: Repository) -> str:
    """The README with its repository-derived links written from ``repo`` (everything else unchanged)."""
    if not _COLAB_LINK.search(text) or not _BOOK_LINE.search(text):
        raise SystemExit("README.md: expected a Colab badge link (https://colab.research.google.com/github/...ipynb) "
                         "and a line starting '**Published book:** '")
    text = _COLAB_LINK.sub(repo.colab_url(FIRST_NOTEBOOK), text)
    return _BOOK_LINE.sub(f"**Published book:** <{repo.book_url}> (deployed from `{repo.branch}` by "
                          "`.github/workflows/pages.yml`)", text)


def pin(notebooks: list[pathlib.Path], root: pathlib.Path = ROOT, check: bool = False) -> list[pathlib.Path]:
    """Write (or with ``check`` only compare) the first cells and the README; returns the files that differed."""
    repo = repository(root)
    expected = install_cell(library_version(root), repo.url)
    stale = []
    for path in notebooks:
        nb = json.loads(path.read_text())
        first = next(c for c in nb["cells"] if c["cell_type"] == "code")
        if "".join(first["source"]) == expected:
            continue
        stale.append(path)
        if not check:
            first["source"] = expected.splitlines(keepends=True)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")  # the committed format
            print(f"pinned {path}")
    readme = root / "README.md"
    text = readme.read_text()
    wanted = readme_text(text, repo)
    if wanted != text:
        stale.append(readme)
        if not check:
            readme.write_text(wanted)
            print(f"pinned {readme}")
    return stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapter notebooks (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--check", action="store_true", help="report files that are out of date; change nothing")
    args = parser.parse_args()
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    stale = pin(notebooks, ROOT, check=args.check)
    if args.check and stale:
        print("out of date (run scripts/pin_notebooks.py):", *map(str, stale), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
