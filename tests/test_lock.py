"""constraints.txt, written by `make lock`, pins every package that requirements.txt pulls in.

The checks run against the environment the tests run in (.venv, installed with
`pip install -r requirements.txt -c constraints.txt`): every requirement and every dependency of one, followed
through the installed packages' metadata, must be pinned in constraints.txt at the version installed.
"""

import importlib.metadata as metadata
import re

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT


def pins(path):
    """{canonical name: version} of the `name==version` lines of a requirements or constraints file."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        found[canonicalize_name(match[1])] = match[2]
    return found


def installed_closure(roots):
    """Every distribution that the requirements `roots` need, with the extras asked for, as installed."""
    seen, todo = {}, [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        extras = set(req.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        for spec in metadata.requires(name) or []:
            dep = Requirement(spec)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in ({""} | seen[name])):
                todo.append(dep)
    return seen


def test_requirements_are_exact_pins_that_the_lock_agrees_with():
    wanted, locked = pins(ROOT / "requirements.txt"), pins(ROOT / "constraints.txt")
    assert wanted, "requirements.txt pins nothing"
    for name, version in wanted.items():
        assert locked.get(name) == version, f"{name}: requirements.txt says {version}, constraints.txt {locked.get(name)}"


def test_every_installed_dependency_is_locked_at_its_installed_version():
    roots = [f"{name}=={version}" for name, version in pins(ROOT / "requirements.txt").items()]
    roots += metadata.requires("minigrad") or []  # the editable `-e .` line: minigrad's own dependencies
    locked = pins(ROOT / "constraints.txt")
    closure = installed_closure(r for r in roots if "extra ==" not in r)
    assert len(closure) > 100, "the dependency walk found suspiciously few packages"
    missing = sorted(name for name in closure if name not in locked)
    assert missing == [], f"installed but not in constraints.txt (run `make lock`): {missing}"
    drift = {name: (metadata.version(name), locked[name]) for name in closure
             if metadata.version(name) != locked[name]}
    assert drift == {}, f"installed version differs from constraints.txt (installed, locked): {drift}"


def test_stamp_install_uses_the_lock():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-r requirements.txt -c constraints.txt" in makefile
