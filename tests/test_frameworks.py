"""The frameworks appendix (book/frameworks.md) shows three programs and the output of each, recorded from a
run. `make test-compare` runs the programs (tests/compare/test_frameworks.py), with the frameworks of the
`compare` extra; these checks need none of them: the page shows every program with its output and states
the versions that the extra pins, and the two float64 programs print the same numbers.
"""

import re
import tomllib

from conftest import BOOK, ROOT

FOLDER = BOOK / "frameworks"
PAGE = BOOK / "frameworks.md"
NAMES = {"torch": "PyTorch", "keras": "Keras", "jax": "JAX"}


def compare_extra():
    """{name: version} of pyproject.toml's `compare` extra (exact pins)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pinned = dict(r.split("==") for r in pyproject["project"]["optional-dependencies"]["compare"])
    assert set(pinned) == {"torch", "keras", "jax", "jaxlib"}, pinned
    return pinned


def test_every_program_is_shown_with_its_recorded_output():
    page = PAGE.read_text(encoding="utf-8")
    programs = sorted(FOLDER.glob("*.py"))
    assert [p.stem for p in programs] == ["jax_sequence_loss", "keras_sequence_loss", "torch_sequence_loss"]
    for program in programs:
        recorded = program.with_suffix(".out")
        assert recorded.is_file(), f"{recorded.name} is missing: record it (tests/compare/test_frameworks.py)"
        assert recorded.read_text(encoding="utf-8").endswith("all checks passed\n"), recorded.name
        listing = page.index(f"```{{literalinclude}} frameworks/{program.name}")
        output = page.index(f"```{{literalinclude}} frameworks/{recorded.name}\n:language: text")
        assert listing < output, f"{recorded.name} is shown before its program"


def test_the_page_states_the_versions_that_the_compare_extra_pins():
    page = " ".join(PAGE.read_text(encoding="utf-8").split())
    pinned = compare_extra()
    assert pinned["jax"] == pinned["jaxlib"]
    for name in ["torch", "keras", "jax"]:
        assert f"{NAMES[name]} {pinned[name]}" in page, f"the page does not say '{NAMES[name]} {pinned[name]}'"
    assert f"Keras {pinned['keras']} on JAX {pinned['jax']}" in page


def test_the_keras_program_chooses_the_jax_backend_itself():
    source = (FOLDER / "keras_sequence_loss.py").read_text(encoding="utf-8")
    assert source.index('os.environ["KERAS_BACKEND"] = "jax"') < source.index("import keras")
    assert (FOLDER / "keras_sequence_loss.out").read_text(encoding="utf-8").startswith("Keras on jax\n")


def parts(recorded):
    """The recorded output's numbered parts, {"2": lines, ...}, without the part's title line."""
    found = re.split(r"^(\d)\. .*\n", recorded.read_text(encoding="utf-8"), flags=re.M)
    return dict(zip(found[1::2], found[2::2]))


def test_the_pytorch_and_jax_programs_print_the_same_numbers():
    # The page says so: both draw the same random numbers and compute in float64.
    torch, jax = parts(FOLDER / "torch_sequence_loss.out"), parts(FOLDER / "jax_sequence_loss.out")
    assert set(torch) == set(jax) == {"1", "2", "3"}
    assert torch == jax
