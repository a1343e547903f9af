"""minigrad as a package: the wheel carries its own description and the MIT licence text.

The wheel is built as a user would (`pip wheel`, with build isolation) from a copy of the files it is made of,
so the build leaves nothing behind in the checkout.
"""

import email
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "minigrad", src / "minigrad", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                    str(src), "-w", str(out)], check=True, timeout=600)
    [path] = out.glob("minigrad-*.whl")
    return zipfile.ZipFile(path)


def dist_info(wheel, name):
    [member] = [m for m in wheel.namelist() if m.split("/")[0].endswith(".dist-info") and m.endswith("/" + name)]
    return wheel.read(member).decode("utf-8")


def test_wheel_description_is_minigrads_own(wheel):
    meta = email.message_from_string(dist_info(wheel, "METADATA"))
    assert meta["Name"] == "minigrad"
    assert meta["Description-Content-Type"] == "text/markdown"
    description = meta.get_payload()
    assert description.strip() == (ROOT / "minigrad" / "README.md").read_text(encoding="utf-8").strip()
    assert description.startswith("# minigrad")
    assert "make book" not in description and "make test" not in description, "the book's build README leaked in"


def test_wheel_carries_the_mit_licence(wheel):
    meta = email.message_from_string(dist_info(wheel, "METADATA"))
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    text = dist_info(wheel, "licenses/LICENSE")
    assert text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 The minigrad authors" in text


def test_wheel_holds_the_package_and_nothing_else(wheel):
    tops = {m.split("/")[0] for m in wheel.namelist()}
    assert tops == {"minigrad", "minigrad-0.1.0.dist-info"}
    files = {m for m in wheel.namelist() if m.startswith("minigrad/")}
    assert {"minigrad/__init__.py", "minigrad/losses.py", "minigrad/py.typed"} <= files
    assert "minigrad/README.md" not in files


def test_licence_files_and_ignored_build_output():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    book = (ROOT / "LICENSE-BOOK").read_text(encoding="utf-8")
    assert book.startswith("Attribution-ShareAlike 4.0 International\n")
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "build/" in ignored and "*.egg-info/" in ignored
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "LICENSE-BOOK" in readme and "CC BY-SA 4.0" in readme
