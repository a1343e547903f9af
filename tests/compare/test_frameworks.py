"""Run the programs that the frameworks appendix (book/frameworks.md) shows: PyTorch, Keras on JAX, and JAX.
Each checks its framework against minigrad and exits nonzero if a check fails, and its output must be the
recorded output that the page shows, byte for byte.

All three frameworks are in the `compare` extra, which `make test-compare` installs with every package pinned
by constraints-compare.txt (written by `make lock`): here a missing framework is a failure, not a skip, and
the install is checked against that lock.

After changing a program, record its output again (never by hand), for each of torch, keras and jax:
    .venv/bin/python book/frameworks/torch_sequence_loss.py > book/frameworks/torch_sequence_loss.out
"""

import importlib.metadata as metadata
import importlib.util
import tomllib
from pathlib import Path

import pytest
from compare_helpers import assert_prints_recorded
from packaging.markers import default_environment
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from test_lock import installed_closure, pins, supported_pythons

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "book" / "frameworks"
LOCK, COMPARE_LOCK = ROOT / "constraints.txt", ROOT / "constraints-compare.txt"
FRAMEWORKS = ["torch", "keras", "jax"]
# Each program takes under 15 s on a 2-core machine; this is only the last resort against a hang.
LIMIT = 300


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_program_checks_pass_and_match_the_recorded_output(framework):
    if importlib.util.find_spec(framework) is None:
        pytest.fail(f"{framework} is not installed: `make test-compare` installs it (the `compare` extra)",
                    pytrace=False)
    assert_prints_recorded(FOLDER / f"{framework}_sequence_loss.py", [], FOLDER / f"{framework}_sequence_loss.out",
                           LIMIT)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_recorded_output_names_no_version(framework):
    # The page states the versions once; an output that printed one would have to be recorded again for a new
    # release even when every number is the same.
    recorded = (FOLDER / f"{framework}_sequence_loss.out").read_text(encoding="utf-8")
    for name in ["torch", "keras", "jax", "jaxlib", "numpy"]:
        assert Version(metadata.version(name)).public not in recorded, name


def test_every_installed_package_of_the_compare_install_is_locked_at_its_version():
    roots = [f"{name}=={version}" for name, version in pins(ROOT / "requirements.txt").items()]
    locked = pins(COMPARE_LOCK)
    closure = installed_closure(roots + ["minigrad[compare]"])
    closure.pop("minigrad")
    assert {"torch", "keras", "jax", "jaxlib"} <= set(closure)
    missing = sorted(name for name in closure if name not in locked)
    assert missing == [], f"installed but not in {COMPARE_LOCK.name} (run `make lock`): {missing}"
    # A local version label (PyTorch's CPU build is 2.13.0+cpu) matches its pin, as it does for pip.
    drift = {name: (metadata.version(name), locked[name]) for name in closure
             if Version(metadata.version(name)) not in SpecifierSet(f"=={locked[name]}")}
    assert drift == {}, f"installed version differs from {COMPARE_LOCK.name} (installed, locked): {drift}"


def test_the_compare_extra_is_exact_pins_that_the_lock_agrees_with():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]["compare"]
    locked = pins(COMPARE_LOCK)
    for requirement in extra:
        name, version = requirement.split("==")
        assert locked.get(name) == version, f"{name}: pyproject.toml says {version}, the lock {locked.get(name)}"
    assert {r.split("==")[0] for r in extra} == {"torch", "keras", "jax", "jaxlib"}, extra


@pytest.mark.parametrize("python", supported_pythons())
def test_the_compare_lock_has_the_version_of_constraints_txt_for_every_package_both_pin(python):
    environment = {**default_environment(), "python_full_version": python,
                   "python_version": python.rsplit(".", 1)[0]}
    main, compare = pins(LOCK, environment), pins(COMPARE_LOCK, environment)
    differ = {name: (version, compare.get(name)) for name, version in main.items() if compare.get(name) != version}
    assert differ == {}, f"run `make lock`: constraints.txt and {COMPARE_LOCK.name} differ: {differ}"
