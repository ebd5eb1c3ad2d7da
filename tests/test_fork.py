"""A fork changes ``repository.url`` in ``_config.yml`` once, runs ``scripts/pin_notebooks.py``, and every place a
reader meets the repository follows: the notebooks' first cell, the README's badge and published-book address, the
book's launch buttons and its pages (built here from the fork's copy). Nothing else names the repository.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
from conftest import load_module

ROOT = pathlib.Path(__file__).resolve().parents[1]
pin_notebooks = load_module("scripts/pin_notebooks.py")
FORK_OWNER, FORK_NAME = "Teacher-Org", "inception-course"  # never written joined here: the scans would find it
FORK_URL = f"https://github.com/{FORK_OWNER}/{FORK_NAME}"
FORK_BOOK = f"https://{FORK_OWNER.lower()}.github.io/{FORK_NAME}/"
FORK_COLAB = f"https://colab.research.google.com/github/{FORK_OWNER}/{FORK_NAME}/blob/main/notebooks/01_inception_module.ipynb"
#: Files the repository's address may be written into: the one place it is named, and what the generator writes.
GENERATED = {"README.md", *(f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def source_files(root: pathlib.Path) -> list[str]:
    """The repository's files as git sees them: tracked, and new ones not ignored."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()
    return sorted(name for name in set(listed) if (root / name).is_file())


def naming(root: pathlib.Path, files: list[str], repo) -> dict[str, list[str]]:
    """Which files name ``repo`` (its address, owner/name, or its Pages host), case-insensitively."""
    patterns = [f"{repo.owner}/{repo.name}", f"{repo.owner}.github.io"]
    found = {}
    for name in files:
        try:
            text = (root / name).read_text(encoding="utf-8").lower()
        except UnicodeDecodeError:
            continue  # weights, images
        hits = [p for p in patterns if p.lower() in text]
        if hits:
            found[name] = hits
    return found


def first_cell_install(path: pathlib.Path) -> str:
    """What the notebook's first cell pip-installs where inception_lab is missing (recorded, not run)."""
    import importlib.util as util
    import subprocess as sp

    cells = json.loads(path.read_text())["cells"]
    cell = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
    calls: list[list[str]] = []
    real_find, real_run = util.find_spec, sp.run
    util.find_spec = lambda name, *args: None if name == "inception_lab" else real_find(name, *args)
    sp.run = lambda args, **kwargs: calls.append(args)
    try:
        exec(cell, {})
    finally:
        util.find_spec, sp.run = real_find, real_run
    [call] = calls
    return call[-1]


@pytest.fixture(scope="module")
def fork(tmp_path_factory):
    """A copy of this checkout whose ``_config.yml`` names another repository, after the generator ran."""
    root = tmp_path_factory.mktemp("fork") / "inception-course"
    for name in source_files(ROOT):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    config = root / "_config.yml"
    text = config.read_text()
    original = pin_notebooks.repository(ROOT)
    assert text.count(original.url) == 1, "_config.yml names the repository once, as repository.url"
    config.write_text(text.replace(original.url, FORK_URL))  # the fork's one edit

    script = [sys.executable, "scripts/pin_notebooks.py"]
    stale = subprocess.run([*script, "--check"], cwd=root, capture_output=True, text=True, timeout=120)
    assert stale.returncode == 1 and "README.md" in stale.stderr and "01_inception_module" in stale.stderr, stale
    ran = subprocess.run(script, cwd=root, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    fresh = subprocess.run([*script, "--check"], cwd=root, capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr
    return root, original


def test_this_repository_is_named_only_in_the_config_and_in_what_the_generator_writes():
    files = source_files(ROOT)
    named = naming(ROOT, files, pin_notebooks.repository(ROOT))
    assert "_config.yml" in named and "README.md" in named
    assert set(named) <= GENERATED | {"_config.yml"}, f"named by hand (read it from _config.yml): {named}"


def test_after_the_one_edit_nothing_names_the_original_repository(fork):
    root, original = fork
    files = source_files(ROOT)  # the same files, in the fork's copy
    assert naming(root, files, original) == {}
    assert set(naming(root, files, pin_notebooks.repository(root))) == set(naming(ROOT, files, original))


def test_the_forks_notebooks_install_the_forks_release_wheel(fork):
    root, _ = fork
    version = pin_notebooks.library_version(root)
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert first_cell_install(path) == (f"{FORK_URL}/releases/download/v{version}/"
                                             f"inception_lab-{version}-py3-none-any.whl"), path.name


def test_the_forks_readme_badge_and_published_book_follow(fork):
    root, _ = fork
    readme = (root / "README.md").read_text()
    colab = re.findall(r"https://colab\.research\.google\.com/github/[^\s)]+", readme)
    assert colab == [FORK_COLAB]
    assert f"**Published book:** <{FORK_BOOK}>" in readme


def test_the_pages_address_is_derived_from_the_repository():
    def book_url(url):
        return pin_notebooks.Repository(*url.removeprefix("https://github.com/").split("/"), "main").book_url

    assert book_url("https://github.com/Some-Owner/some-book") == "https://some-owner.github.io/some-book/"
    assert book_url("https://github.com/Some-Owner/Some-Owner.github.io") == "https://some-owner.github.io/"


@pytest.mark.parametrize("url", ["", "https://gitlab.com/a/b", "github.com/a/b", "https://github.com/a"])
def test_a_repository_url_that_is_not_github_is_refused_clearly(tmp_path, url):
    (tmp_path / "_config.yml").write_text(f"repository:\n  url: '{url}'\n")
    with pytest.raises(SystemExit, match="repository.url must be a GitHub repository, https://github.com/OWNER/NAME"):
        pin_notebooks.repository(tmp_path)


@pytest.mark.slow
def test_the_forks_book_links_the_fork_and_names_its_version(fork, tmp_path):
    root, original = fork
    jb = shutil.which("jupyter-book", path=str(pathlib.Path(sys.executable).parent))
    assert jb, "jupyter-book is not installed in this environment"
    env = {**__import__("os").environ, "INCEPTION_LAB_PYODIDE": "off"}  # no download; the live core is not checked
    result = subprocess.run([jb, "build", str(root), "-W", "--keep-going", "--path-output", str(tmp_path)],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0 and "build succeeded" in result.stdout, result.stdout[-4000:] + result.stderr[-2000:]
    html = tmp_path / "_build" / "html"
    version = pin_notebooks.library_version(root)
    intro = (html / "book" / "intro.html").read_text()
    assert re.search(rf"built from version <strong>{re.escape(version)}</strong>", intro)
    assert f'href="{FORK_URL}/blob/main/CHANGELOG.md"' in intro
    assert f'href="{FORK_BOOK}"' in intro
    assert f'href="{FORK_URL}"' in (html / "book" / "how_to_use.html").read_text()
    chapter = (html / "notebooks" / "01_inception_module.html").read_text()
    assert FORK_COLAB in chapter  # the launch button
    assert f'href="{FORK_URL}"' in chapter  # the repository button
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8").lower()
        assert f"{original.owner}/{original.name}".lower() not in text, page
