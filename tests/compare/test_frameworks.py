"""Run book/frameworks/torch_sequence_loss.py, which asserts that PyTorch agrees with minigrad."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_torch_file():
    path = ROOT / "book" / "frameworks" / "torch_sequence_loss.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
    assert "agree with minigrad" in result.stdout
