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


def test_only_the_primitives_forward_and_vjp_go_unannotated():
    """pyproject.toml lets ops.py and fused.py leave forward/vjp unannotated (the chapters' listings); nothing else."""
    import ast

    missing = []
    for name in ("ops.py", "fused.py"):
        tree = ast.parse((ROOT / "minigrad" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in ("forward", "vjp"):
                args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                unannotated = [a.arg for a in args if a.annotation is None and a.arg not in ("self", "cls")]
                if unannotated or node.returns is None:
                    missing.append(f"{name}:{node.lineno} {node.name}")
    assert not missing, f"annotate these (only forward/vjp are exempt): {missing}"
