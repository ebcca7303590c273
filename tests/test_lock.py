"""The lock files CI and the daily Action install from stay in step with pyproject.toml: every dependency a user
would get (core and the locked extras) is pinned there, at a version its range allows. When this fails, run
.ci/lock (see docs/operations.md)."""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCKS = {"ci.lock": ("test", "ray"), "action.lock": ("llm",)}
PY311_LINUX = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux", "extra": ""}


def _requirements(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    found, todo, seen = [], list(extras), set()
    found += [Requirement(r) for r in project["dependencies"]]
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for line in project["optional-dependencies"][extra]:
            req = Requirement(line)
            if canonicalize_name(req.name) == "summarize":
                todo += sorted(req.extras)
            else:
                found.append(req)
    return [r for r in found if r.marker is None or r.marker.evaluate(PY311_LINUX)]


def _pins(name: str) -> dict[str, str]:
    text = (REPO / "requirements" / name).read_text()
    return {canonicalize_name(m[1]): m[2] for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", text, re.M)}


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_dependency_is_pinned_in_the_lock_within_its_range(lock: str) -> None:
    pins = _pins(lock)
    problems = []
    for req in _requirements(LOCKS[lock]):
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req} is not in requirements/{lock}")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"requirements/{lock} pins {req.name}=={pinned}, outside {req}")
    assert not problems, "run .ci/lock: " + "; ".join(problems)


def test_the_action_lock_uses_the_versions_ci_tested() -> None:
    ci, action = _pins("ci.lock"), _pins("action.lock")
    differ = {name: (version, ci.get(name)) for name, version in action.items() if ci.get(name) != version}
    assert not differ, f"run .ci/lock: action.lock differs from ci.lock: {differ}"


def test_no_package_of_the_test_extra_caps_a_core_dependency_below_what_the_core_range_allows() -> None:
    """`pip install -e .` then `.[test]` must not downgrade a package the core install chose (rich 15 → 14.3.4 by
    instructor's rich<15): every upper bound an installed package of the test extra puts on a core dependency is
    one the core range has too."""
    from importlib.metadata import PackageNotFoundError, distribution

    core = {canonicalize_name(r.name): r for r in _requirements(())}
    todo = [canonicalize_name(r.name) for r in _requirements(("test",))]
    seen: set[str] = set()
    looser = []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate(PY311_LINUX):
                continue
            dep = canonicalize_name(req.name)
            todo.append(dep)
            for clause in req.specifier if dep in core else ():
                if clause.operator == "<" and core[dep].specifier.contains(clause.version, prereleases=False):
                    looser.append(f"{name} needs {req}; the core range is {core[dep]}")
    assert not looser, looser
