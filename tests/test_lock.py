"""constraints.txt, written by `make lock`, pins every package that requirements.txt pulls in.

The checks run against the environment the tests run in (.venv, installed with
`pip install -r requirements.txt -c constraints.txt`): every requirement and every dependency of one, followed
through the installed packages' metadata, must be pinned in constraints.txt at the version installed. A pin
with an environment marker (`soupsieve==2.10 ; python_full_version < '3.11.5'`) counts where its marker holds:
the lock is one file for every supported Python and platform.
"""

import importlib.metadata as metadata
import re
import sys

from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import check_python  # noqa: E402


def pins(path, environment=None):
    """{canonical name: version} of the `name==version [; marker]` lines of a requirements or constraints
    file whose marker holds in `environment` (a dict of marker variables; None: this interpreter's)."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)\s*(?:;(.+))?", line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        name, version, marker = canonicalize_name(match[1]), match[2], match[3]
        if marker is None or Marker(marker).evaluate(environment):
            assert name not in found, f"{path.name}: two pins of {name} hold at once"
            found[name] = version
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


def supported_pythons():
    """The oldest release of each minor version that requires-python admits: '3.11.0', '3.12.0', '3.13.0'."""
    spec = check_python.requires_python(ROOT / "pyproject.toml")
    lowest = re.search(r">=\s*3\.(\d+)", spec)[1]
    below = re.search(r"<\s*3\.(\d+)", spec)[1]
    return [f"3.{minor}.0" for minor in range(int(lowest), int(below))]


def test_every_pin_installed_here_admits_each_python_it_is_pinned_for():
    # A pin whose package needs a newer Python than one it applies to (soupsieve 4.1.3 needs 3.11.5) makes
    # the install fail there; the lock must say so with a marker. Checked for the packages installed here,
    # whose metadata is at hand (in CI, on the oldest and the newest supported Python), on the oldest release of every supported minor version.
    pythons = supported_pythons()
    assert pythons[0] == "3.11.0" and len(pythons) >= 3, pythons
    bad = []
    for python in pythons:
        environment = {**default_environment(), "python_full_version": python,
                       "python_version": python.rsplit(".", 1)[0]}
        for name, version in pins(ROOT / "constraints.txt", environment).items():
            if _installed_version(name) != version:
                continue  # not the version installed here: its metadata is not at hand
            needs = metadata.metadata(name).get("Requires-Python")
            if needs and python not in SpecifierSet(needs):
                bad.append(f"{name}=={version} needs Python {needs}, pinned for {python}")
    assert bad == [], "run `make lock`: " + "; ".join(bad)


def _installed_version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_check_python_names_the_interpreter_the_range_and_the_way_out():
    spec = check_python.requires_python(ROOT / "pyproject.toml")
    for python in supported_pythons():
        assert check_python.problem(spec, tuple(map(int, python.split("."))), "python3") is None
    for outside in [(3, 10, 13), (3, int(re.search(r"<\s*3\.(\d+)", spec)[1]), 0)]:
        sentence = check_python.problem(spec, outside, "/usr/bin/python3")
        assert sentence.startswith(f"make: /usr/bin/python3 is Python {'.'.join(map(str, outside))}, but")
        assert check_python.supported_range(spec) in sentence and "make test PYTHON=" in sentence


def test_the_readme_and_the_book_name_the_supported_range():
    wanted = check_python.supported_range(check_python.requires_python(ROOT / "pyproject.toml"))
    for page in ["README.md", "book/running_locally.md"]:
        text = (ROOT / page).read_text(encoding="utf-8")
        assert wanted in text, f"{page} does not say '{wanted}' (pyproject.toml's requires-python)"
