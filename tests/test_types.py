"""minigrad's annotations hold: `mypy --strict -p minigrad` reports nothing.

The settings (strict, and two documented relaxations) are in pyproject.toml; mypy is pinned in
requirements.txt, so `make test` runs this check.
"""

import os
import subprocess
import sys

from conftest import ROOT


def test_mypy_strict_passes():
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull,
                             "-p", "minigrad"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"mypy --strict -p minigrad failed:\n{result.stdout}{result.stderr}"
    assert "Success: no issues found" in result.stdout
