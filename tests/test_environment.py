"""environment.yml, pyproject.toml and constraints.txt describe the same environment."""

import pathlib
import re

import tomllib
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: Extras for teachers only, which the readers' environment (environment.yml, Binder) leaves out.
TEACHERS_ONLY = {"classroom"}


def name_of(requirement: str) -> str:
    """Normalised distribution name of a requirement string ('Jupyter_Book>=1,<2' -> 'jupyter-book')."""
    return re.split(r"[<>=!~\s\[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_names(left_out: set[str] = frozenset()) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        reqs += [] if name in left_out else extra
    return {name_of(r) for r in reqs}


def environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {name_of(r) for r in dep["pip"] if not r.startswith("-e")}
        else:
            names.add(name_of(dep))
    return names - {"python", "pip"}


def test_environment_yml_names_the_same_packages_as_pyproject():
    assert environment_names() == pyproject_names(left_out=TEACHERS_ONLY)


def test_constraints_pin_every_package_exactly():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt line {line!r} is not an exact pin"
            pins[name_of(name)] = version
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert pins["jupyter-book"].startswith("1.")
    assert pyproject_names() <= set(pins), f"unpinned: {pyproject_names() - set(pins)}"


def test_environment_yml_uses_the_same_torch_pins():
    env = (ROOT / "environment.yml").read_text()
    assert "torch==2.14.1" in env and "torchvision==0.29.1" in env and "jupyter-book>=1.0.4,<2" in env
