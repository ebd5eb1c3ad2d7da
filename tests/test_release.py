"""scripts/release.py on a throw-away clone: the version, the notebooks' pins, the changelog, the commit and the tag,
and every refusal (bad version, dirty checkout, existing tag, a version not after the current one, no notes).

The clone holds this checkout's working tree (uncommitted changes included), so the script under test is the one
on disk. Strict nbval is skipped in the clone (``--skip-nbval``); that the default runs it is checked in-process.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def git(root: pathlib.Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def load(root: pathlib.Path, relative: str):
    spec = importlib.util.spec_from_file_location(pathlib.Path(relative).stem + "_under_test", root / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def first_cell(path: pathlib.Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


def installed_by(cell: str) -> list[str]:
    """The pip arguments the first cell runs where inception_lab is missing (pip is recorded, not run)."""
    import importlib.util as util
    import subprocess as sp

    calls: list[list[str]] = []
    real_find, real_run = util.find_spec, sp.run
    util.find_spec = lambda name, *args: None if name == "inception_lab" else real_find(name, *args)
    sp.run = lambda args, **kwargs: calls.append(args)
    try:
        exec(cell, {})
    finally:
        util.find_spec, sp.run = real_find, real_run
    assert len(calls) == 1, calls
    return calls[0]


@pytest.fixture
def clone(tmp_path) -> pathlib.Path:
    """A git clone of this repository with this checkout's working tree committed on top, and a release note."""
    target = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(ROOT), str(target))
    git(target, "config", "user.name", "Release Test")
    git(target, "config", "user.email", "release-test@example.invalid")
    git(target, "config", "commit.gpgsign", "false")
    git(target, "config", "tag.gpgsign", "false")
    for tag in git(target, "tag", "--list").split():  # this repository's own release tags: the tests make their own
        git(target, "tag", "-d", tag)
    changed = git(ROOT, "diff", "HEAD", "--name-only", "--no-renames").splitlines()
    changed += git(ROOT, "ls-files", "--others", "--exclude-standard").splitlines()
    for name in changed:
        source, copy = ROOT / name, target / name
        if source.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
        elif copy.exists():
            copy.unlink()
    changelog = target / "CHANGELOG.md"
    text = changelog.read_text()
    assert "\n## Unreleased\n" in text
    changelog.write_text(text.replace("\n## Unreleased\n", "\n## Unreleased\n\n- A change the test releases.\n", 1))
    git(target, "add", "-A")
    git(target, "commit", "--quiet", "-m", "working tree and a release note (test)")
    return target


def run_release(root: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/release.py", *args], cwd=root, capture_output=True, text=True,
                          timeout=300)


def current_version(root: pathlib.Path) -> str:
    return load(root, "scripts/pin_notebooks.py").library_version(root)


def next_patch(version: str) -> str:
    major, minor, patch = map(int, version.split("."))
    return f"{major}.{minor}.{patch + 1}"


def test_release_bumps_pins_records_commits_and_tags(clone, tmp_path):
    old = current_version(clone)
    new = next_patch(old)
    before = git(clone, "rev-parse", "HEAD").strip()
    result = run_release(clone, new, "--skip-nbval")
    assert result.returncode == 0, result.stdout + result.stderr

    # The version, in the one place it is written.
    assert current_version(clone) == new
    assert f'__version__ = "{new}"' in (clone / "inception_lab" / "__init__.py").read_text()
    # Every notebook's first cell pins it and installs the release wheel of this repository's tag.
    pin = load(clone, "scripts/pin_notebooks.py")
    repo = pin.repository(clone)
    notebooks = sorted((clone / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 7
    for path in notebooks:
        cell = first_cell(path)
        assert cell == pin.install_cell(new, repo.url), path.name
        assert f'LIBRARY_VERSION = "{new}"' in cell
        assert installed_by(cell)[-1] == f"{repo.url}/releases/download/v{new}/inception_lab-{new}-py3-none-any.whl"
    # The changelog: the note moved under the new version, an empty Unreleased on top.
    changelog = (clone / "CHANGELOG.md").read_text()
    today = datetime.date.today().isoformat()
    assert f"## Unreleased\n\n## {new} - {today}\n\n- A change the test releases." in changelog
    assert changelog.index(f"## {new} - ") < changelog.index(f"## {old} - ")
    notes = run_release(clone, "--notes", new)
    assert notes.returncode == 0 and notes.stdout.strip().startswith("- A change the test releases."), notes.stdout
    # One commit on top, tagged, the checkout clean.
    assert git(clone, "rev-parse", "HEAD~1").strip() == before
    assert git(clone, "log", "-1", "--format=%s").strip() == f"Release v{new}"
    changed = set(git(clone, "diff", "--name-only", "HEAD~1", "HEAD").split())
    assert changed == {"inception_lab/__init__.py", "CHANGELOG.md", *(f"notebooks/{p.name}" for p in notebooks)}
    assert git(clone, "tag", "--points-at", "HEAD").split() == [f"v{new}"]
    assert git(clone, "cat-file", "-t", f"v{new}").strip() == "tag"  # annotated
    assert git(clone, "status", "--porcelain") == ""
    # It says what to push, the tag before the branch, and pushes nothing.
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("git push")]
    branch = git(clone, "rev-parse", "--abbrev-ref", "HEAD").strip()
    assert lines == [f"git push origin v{new}", f"git push origin {branch}"]
    assert "Nothing was pushed" in result.stdout

    # The wheel built from the tag is the file the first cell downloads (what the release workflow attaches).
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "--wheel-dir", str(dist), str(clone)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = dist.glob("*.whl")
    assert wheel.name == installed_by(first_cell(notebooks[0]))[-1].rsplit("/", 1)[1]
    assert f"inception_lab-{new}.dist-info/METADATA" in zipfile.ZipFile(wheel).namelist()


@pytest.mark.parametrize("version", ["", "1.2", "v1.2.3", "1.2.3rc1", "01.2.3", "1.2.3.4", "one.two.three"])
def test_a_bad_version_string_is_refused_clearly(clone, version):
    result = run_release(clone, version, "--skip-nbval")
    assert result.returncode == 1
    assert f"version {version!r} is not X.Y.Z" in result.stderr and "make release VERSION=x.y.z" in result.stderr


@pytest.mark.parametrize("how", ["modified", "untracked"])
def test_a_dirty_checkout_is_refused(clone, how):
    if how == "modified":
        (clone / "README.md").write_text((clone / "README.md").read_text() + "\nedited\n")
    else:
        (clone / "scratch.txt").write_text("not committed\n")
    result = run_release(clone, next_patch(current_version(clone)), "--skip-nbval")
    assert result.returncode == 1
    assert "uncommitted or untracked files" in result.stderr
    assert ("README.md" if how == "modified" else "scratch.txt") in result.stderr
    assert git(clone, "tag", "--list").strip() == ""


def test_an_existing_tag_is_refused(clone):
    new = next_patch(current_version(clone))
    git(clone, "tag", f"v{new}")
    result = run_release(clone, new, "--skip-nbval")
    assert result.returncode == 1 and f"tag v{new} already exists" in result.stderr


@pytest.mark.parametrize("offset", ["same", "lower"])
def test_a_version_not_after_the_current_one_is_refused(clone, offset):
    old = current_version(clone)
    version = old if offset == "same" else "0.0.0"
    assert offset == "same" or old != "0.0.0"
    result = run_release(clone, version, "--skip-nbval")
    assert result.returncode == 1
    assert f"version {version} is not greater than the current version {old}" in result.stderr


def test_a_release_without_notes_is_refused_and_changes_nothing(clone):
    changelog = clone / "CHANGELOG.md"
    text = changelog.read_text()
    start = text.index("## Unreleased\n") + len("## Unreleased\n")
    end = text.index("\n## ", start)
    changelog.write_text(text[:start] + text[end:])
    git(clone, "commit", "--quiet", "-am", "no notes (test)")
    old = current_version(clone)
    result = run_release(clone, next_patch(old), "--skip-nbval")
    assert result.returncode == 1 and "nothing under '## Unreleased'" in result.stderr
    assert current_version(clone) == old and git(clone, "status", "--porcelain") == ""


def test_by_default_the_release_runs_strict_nbval_and_a_failure_restores_the_checkout(clone, monkeypatch):
    release = load(clone, "scripts/release.py")
    run_checks = release.run_checks
    old = current_version(clone)
    seen = []

    def failing_checks(root):
        seen.append(root)
        assert current_version(root) == next_patch(old)  # the checks run on the bumped, re-pinned checkout
        raise release.ReleaseError("strict nbval failed (simulated)")

    monkeypatch.setattr(release, "run_checks", failing_checks)
    with pytest.raises(release.ReleaseError, match="simulated"):
        release.release(next_patch(old), clone)
    assert seen == [clone]
    assert current_version(clone) == old and git(clone, "status", "--porcelain") == ""
    assert git(clone, "tag", "--list").strip() == ""

    # The commands it runs: the package re-installed (its metadata then says the bumped version, which the first
    # cells compare), then strict nbval (pyproject's addopts) on every notebook and the first-cell checks.
    commands = []
    monkeypatch.setattr(release.subprocess, "run",
                        lambda command, **kwargs: commands.append(command) or subprocess.CompletedProcess(command, 0))
    run_checks(clone)
    assert commands == [[sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e",
                         str(clone)],
                        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_notebooks.py",
                         "notebooks"]]
