"""environment.yml, pyproject.toml and constraints.txt describe the same environment."""

import pathlib
import re

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: Extras for teachers only, which the readers' environment (environment.yml, Binder) leaves out.
TEACHERS_ONLY = {"classroom"}


def name_of(requirement: str) -> str:
    """Normalised distribution name of a requirement string ('Jupyter_Book>=1,<2' -> 'jupyter-book')."""
    return re.split(r"[<>=!~\s\[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_requirements(left_out: frozenset[str] = frozenset()) -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        reqs += [] if name in left_out else extra
    return {name_of(r): Requirement(r) for r in reqs}


def environment_requirements() -> dict[str, str]:
    """Name -> requirement string of every package environment.yml installs (conda and pip)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found = {}
    for dep in env["dependencies"]:
        for r in dep["pip"] if isinstance(dep, dict) else [dep]:
            if not r.startswith("-e"):
                found[name_of(r)] = r.split("#")[0].strip()
    return {name: r for name, r in found.items() if name not in ("python", "pip")}


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt line {line!r} is not an exact pin"
            pins[name_of(name)] = version
    return pins


def test_environment_yml_names_the_same_packages_as_pyproject():
    assert set(environment_requirements()) == set(pyproject_requirements(left_out=frozenset(TEACHERS_ONLY)))


def test_constraints_pin_every_package_within_the_range_pyproject_allows():
    pins = constraint_pins()
    for name, requirement in pyproject_requirements().items():
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}"


def test_environment_yml_pins_what_constraints_pins_and_allows_what_pyproject_allows():
    pins, ranges = constraint_pins(), pyproject_requirements()
    for name, text in environment_requirements().items():
        if "==" in text:  # conda cannot read constraints.txt: its exact pins (torch) must be the same ones
            assert text == f"{name}=={pins[name]}", f"environment.yml has {text}, constraints.txt {pins[name]}"
        else:
            assert SpecifierSet(text[len(name):]) == ranges[name].specifier, f"{text} vs pyproject's {ranges[name]}"
