"""The GitHub Actions workflows: schema-valid, zizmor-clean, and doing what README.md and CONTRIBUTING.md promise.

``check-jsonschema --builtin-schema vendor.github-workflows`` (the schema ships inside the package: offline) and
``zizmor --offline`` (actions pinned by commit, least permissions, no untrusted input in ``run:``, no persisted
credentials, ...) run here; the tests below check what neither knows about this project.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\b")


def tool(name: str) -> str:
    """A console script of this environment (the ``test`` extra installs it)."""
    found = shutil.which(name, path=str(pathlib.Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -c constraints.txt -e '.[test]'"
    return found


def load(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict) -> dict:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True
    return {on: None} if isinstance(on, str) else dict(on)


def workflow(name: str) -> dict:
    return load(ROOT / ".github" / "workflows" / name)


def steps(wf: dict) -> list[dict]:
    return [step for job in wf["jobs"].values() for step in job.get("steps", [])]


def runs(wf: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(wf))


def test_the_four_workflows_exist():
    assert {"colab-check.yml", "pages.yml", "release.yml", "tests.yml"} <= {p.name for p in WORKFLOWS}


def test_workflows_are_valid_against_the_github_workflow_schema():
    result = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                             *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing():
    result = subprocess.run([tool("zizmor"), "--offline", "--no-progress", str(ROOT / ".github" / "workflows")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_release_named(path):
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
        if match is None:
            continue
        target, rest = match.groups()
        if target.startswith("$/"):  # a workflow of this repository, at the commit that runs
            continue
        assert PINNED.match(target), f"{path.name}:{number}: {target} is not pinned to a full commit SHA"
        assert VERSION_COMMENT.search(rest), f"{path.name}:{number}: name the release the SHA is, '# vX.Y.Z'"


def test_one_action_is_pinned_to_one_commit_everywhere():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for target in re.findall(r"uses:\s*([\w.-]+/[\w./-]+@[0-9a-f]{40})", path.read_text()):
            action, sha = target.split("@")
            pins.setdefault(action, set()).add(sha)
    assert pins and all(len(shas) == 1 for shas in pins.values()), pins


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_permissions_at_workflow_and_job_level(path):
    wf = load(path)
    assert wf.get("permissions") == {}, "the workflow grants nothing; each job asks for what it needs"
    for name, job in wf["jobs"].items():
        assert "permissions" in job, f"job {name} states its permissions"
        granted = {scope: level for scope, level in job["permissions"].items() if level != "none"}
        allowed = {"contents": {"read"}}
        if path.name == "pages.yml" and name == "deploy":
            allowed = {"pages": {"write"}, "id-token": {"write"}}
        if path.name == "release.yml" and name == "publish":
            allowed = {"contents": {"write"}}
        assert all(level in allowed.get(scope, set()) for scope, level in granted.items()), (name, granted)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_never_keeps_credentials_and_run_steps_expand_no_expressions(path):
    wf = load(path)
    for step in steps(wf):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, step
        # Values reach shell steps through env:, never as ${{ }} pasted into the script.
        assert "${{" not in step.get("run", ""), step["run"]


def test_tests_run_the_readme_command_with_debian_chromium_and_a_pip_cache():
    wf = workflow("tests.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(triggers(wf))
    assert "make test" in (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", runs(wf), re.M)
    job = wf["jobs"]["make-test"]
    assert re.fullmatch(r"python:3\.11-bookworm", job["container"]["image"])  # Debian, the project's Python
    assert "apt-get install" in runs(wf) and "chromium" in runs(wf)
    cache = next(s for s in steps(wf) if s.get("uses", "").startswith("actions/cache@"))
    assert "hashFiles('constraints.txt')" in cache["with"]["key"]
    assert cache["with"]["path"] == job["env"]["PIP_CACHE_DIR"]


def test_colab_like_check_runs_weekly_on_demand_and_before_a_release():
    wf = workflow("colab-check.yml")
    assert {"schedule", "workflow_dispatch", "workflow_call"} <= set(triggers(wf))
    assert "bash scripts/colab_like_check.sh" in runs(wf)
    setup = next(s for s in steps(wf) if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "3.12"


def test_pages_publishes_the_built_book_from_main():
    wf = workflow("pages.yml")
    assert triggers(wf)["push"] == {"branches": ["main"]}
    assert re.search(r"^make book$", runs(wf), re.M)
    upload = next(s for s in steps(wf) if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
    # What is published is built from the registries, not from a cache another workflow wrote.
    assert not any("cache" in s.get("with", {}) or s.get("uses", "").startswith("actions/cache@") for s in steps(wf))


def test_release_builds_the_wheel_the_first_cell_installs_and_attaches_it_after_the_checks():
    wf = workflow("release.yml")
    assert triggers(wf)["push"] == {"tags": ["v*"]}
    jobs = wf["jobs"]
    assert jobs["tests"]["uses"] == "$/.github/workflows/tests.yml"
    assert jobs["colab-like"]["uses"] == "$/.github/workflows/colab-check.yml"
    assert set(jobs["publish"]["needs"]) == {"tests", "colab-like", "wheel"}
    wheel = "\n".join(s.get("run", "") for s in jobs["wheel"]["steps"])
    # The same build command as the Colab-like check, which installs its result as the first cell does.
    assert "pip wheel --no-deps --wheel-dir dist ." in wheel
    check = (ROOT / "scripts" / "colab_like_check.sh").read_text()
    assert re.search(r"pip wheel .*--no-deps --wheel-dir ", check)
    assert 'test -f "dist/inception_lab-$version-py3-none-any.whl"' in wheel
    assert '"$TAG" != "v$version"' in wheel  # the tag is v + inception_lab.__version__
    publish = "\n".join(s.get("run", "") for s in jobs["publish"]["steps"])
    assert "scripts/release.py --notes" in publish
    assert re.search(r"gh release create \"\$TAG\" dist/\*\.whl --verify-tag", publish)
    # No cache anywhere near the artefact.
    assert not any(s.get("uses", "").startswith("actions/cache@") for s in jobs["wheel"]["steps"])
