"""Release the library and the book: bump the version, re-pin the notebooks, check them, commit and tag.

Usage:
    make release VERSION=x.y.z                  (or: python scripts/release.py x.y.z)
    python scripts/release.py x.y.z --skip-nbval    (tests only: no strict nbval run)
    python scripts/release.py --notes x.y.z         (print the changelog entry of x.y.z; the release workflow's notes)

In a clean checkout, on the branch to release (``main``), this
1. refuses a version that is not ``X.Y.Z``, not greater than ``inception_lab.__version__``, or whose tag ``vX.Y.Z``
   exists, and a checkout with uncommitted or untracked files (the release commit is exactly what was checked);
2. refuses when ``CHANGELOG.md`` has no notes under ``## Unreleased``: a release says what changed. The notes move
   under a new heading ``## X.Y.Z - <today>`` and an empty ``## Unreleased`` stays on top for the next release;
3. writes ``__version__ = "X.Y.Z"`` in ``inception_lab/__init__.py`` (pyproject reads it) and re-pins every
   notebook's first cell (``scripts/pin_notebooks.py``), which installs the wheel of the release ``vX.Y.Z``;
4. runs strict nbval on every notebook and the first-cell checks (``tests/test_notebooks.py``) with this Python
   (``--skip-nbval`` skips it: the release test runs on a throw-away clone); on failure it restores the files;
5. commits ``Release vX.Y.Z``, makes the annotated tag ``vX.Y.Z`` and prints what to push, in order: the tag first
   (``.github/workflows/release.yml`` runs the Colab-like check, builds the wheel and attaches it to the release),
   then the branch, once the release shows the wheel the notebooks install.
Nothing is pushed.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
VERSION_FILE = "inception_lab/__init__.py"
CHANGELOG = "CHANGELOG.md"
UNRELEASED = "## Unreleased"
_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_ENTRY = re.compile(r"^## (?P<version>[0-9]+\.[0-9]+\.[0-9]+)\b.*$", re.M)


class ReleaseError(Exception):
    """A reason not to release, worded for the person running the release."""


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` as ``(1, 2, 3)``; a clear error for anything else."""
    match = _VERSION.fullmatch(text)
    if match is None:
        raise ReleaseError(f"version {text!r} is not X.Y.Z: three numbers without leading zeros, e.g. 0.3.0 "
                           "(no 'v', no suffix); run: make release VERSION=x.y.z")
    return tuple(int(part) for part in match.groups())


def git(*args: str, root: pathlib.Path = ROOT) -> str:
    """Run git in ``root``; its stdout, or a ReleaseError with git's message."""
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def _pin_notebooks(root: pathlib.Path):
    spec = importlib.util.spec_from_file_location("pin_notebooks", root / "scripts" / "pin_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def changelog_entry(text: str, version: str) -> str:
    """The notes of ``## <version>`` in the changelog's text (its heading excluded)."""
    headings = list(re.finditer(r"^## .*$", text, re.M))
    for i, heading in enumerate(headings):
        found = _ENTRY.match(heading.group(0))
        if found and found["version"] == version:
            end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
            return text[heading.end():end].strip()
    raise ReleaseError(f"{CHANGELOG} has no entry '## {version}'")


def promote_unreleased(text: str, version: str, date: str) -> str:
    """The changelog with the notes under ``## Unreleased`` moved to ``## <version> - <date>``."""
    if any(m["version"] == version for m in _ENTRY.finditer(text)):
        raise ReleaseError(f"{CHANGELOG} already has an entry for {version}")
    start = text.find(f"\n{UNRELEASED}\n")
    if start < 0:
        raise ReleaseError(f"{CHANGELOG} has no '{UNRELEASED}' heading to take this release's notes from")
    body_start = start + len(UNRELEASED) + 2
    following = re.search(r"^## ", text[body_start:], re.M)
    body_end = body_start + following.start() if following else len(text)
    notes = text[body_start:body_end].strip()
    if not notes:
        raise ReleaseError(f"{CHANGELOG}: nothing under '{UNRELEASED}'. Write what changed in {version} there "
                           "(one line per change a reader or a forker notices), commit, and release again")
    return f"{text[:body_start]}\n## {version} - {date}\n\n{notes}\n\n{text[body_end:].lstrip()}".rstrip() + "\n"


def check_can_release(version: str, root: pathlib.Path = ROOT) -> str:
    """Every refusal that needs no change to the checkout; returns the current version."""
    wanted = parse_version(version)
    git("rev-parse", "--git-dir", root=root)
    dirty = git("status", "--porcelain", "--untracked-files=normal", root=root)
    if dirty.strip():
        raise ReleaseError("the checkout has uncommitted or untracked files; commit or remove them first:\n"
                           + dirty.rstrip())
    if git("tag", "--list", f"v{version}", root=root).strip():
        raise ReleaseError(f"tag v{version} already exists; choose a version after the latest release")
    current = _pin_notebooks(root).library_version(root)
    if wanted <= parse_version(current):
        raise ReleaseError(f"version {version} is not greater than the current version {current}")
    return current


def refresh_installed_version(root: pathlib.Path) -> None:
    """Re-install ``root`` editable without dependencies, so the installed metadata carries the bumped version.

    The notebooks' first cell compares ``importlib.metadata.version("inception-lab")`` with the version it pins; an
    editable install keeps the version it was installed with until it is installed again, and the cell would print
    a note that strict nbval rightly rejects.
    """
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(root)]
    if subprocess.run(command, cwd=root).returncode != 0:
        raise ReleaseError("could not re-install the package to refresh its version: " + " ".join(command))


def run_checks(root: pathlib.Path) -> None:
    """Strict nbval on every notebook and the notebooks' structure tests, with this interpreter."""
    refresh_installed_version(root)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_notebooks.py", "notebooks"]
    print("checking:", " ".join(command), flush=True)
    if subprocess.run(command, cwd=root).returncode != 0:
        raise ReleaseError("strict nbval or the notebook checks failed (output above); nothing was committed")


def release(version: str, root: pathlib.Path = ROOT, skip_nbval: bool = False, date: str | None = None) -> str:
    """Bump, re-pin, check, commit and tag ``v<version>`` in ``root``; returns the instructions to push."""
    current = check_can_release(version, root)
    changelog = root / CHANGELOG
    if not changelog.is_file():
        raise ReleaseError(f"{CHANGELOG} is missing")
    promoted = promote_unreleased(changelog.read_text(), version, date or datetime.date.today().isoformat())
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    try:
        changelog.write_text(promoted)
        version_file = root / VERSION_FILE
        text = version_file.read_text()
        bumped = text.replace(f'__version__ = "{current}"', f'__version__ = "{version}"', 1)
        if bumped == text:
            raise ReleaseError(f'{VERSION_FILE} has no line __version__ = "{current}"')
        version_file.write_text(bumped)
        _pin_notebooks(root).pin(notebooks, root)
        if not skip_nbval:
            run_checks(root)
    except BaseException:
        git("checkout", "--", ".", root=root)  # the checkout was clean: this undoes only this run's changes
        raise
    git("add", "--", VERSION_FILE, CHANGELOG, "README.md", *(str(p.relative_to(root)) for p in notebooks), root=root)
    git("commit", "--quiet", "-m", f"Release v{version}", root=root)
    git("tag", "-a", f"v{version}", "-m", f"inception-lab {version}", root=root)
    branch = git("rev-parse", "--abbrev-ref", "HEAD", root=root).strip()
    commit = git("rev-parse", "--short", "HEAD", root=root).strip()
    return (f"Released v{version} locally: commit {commit} on {branch}, tag v{version} ({current} -> {version}).\n"
            "Nothing was pushed. To publish:\n"
            f"  git push origin v{version}\n"
            "      # the release workflow runs the Colab-like check, builds the wheel and attaches it to the release\n"
            f"  git push origin {branch}\n"
            f"      # once the release v{version} lists inception_lab-{version}-py3-none-any.whl: the notebooks on\n"
            f"      # {branch} install it, and the Pages workflow publishes the book of {version}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("version", nargs="?", default="", help="the new version, X.Y.Z")
    parser.add_argument("--skip-nbval", action="store_true", help="do not run strict nbval (the release test)")
    parser.add_argument("--notes", metavar="X.Y.Z", help="print the changelog entry of X.Y.Z and exit")
    args = parser.parse_args(argv)
    try:
        if args.notes:
            parse_version(args.notes)
            print(changelog_entry((ROOT / CHANGELOG).read_text(), args.notes))
            return 0
        print(release(args.version, ROOT, skip_nbval=args.skip_nbval), end="")
        return 0
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
