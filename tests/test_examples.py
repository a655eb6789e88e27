"""Every script in examples/ runs to completion (each checks its own results with asserts)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
NEEDS = {
    "continue_in_pytorch.py": ["torch"],
    "export_onnx.py": ["onnx", "onnxruntime", "sklearn"],
    "sklearn_pipeline.py": ["sklearn"],
}


def test_examples_exist():
    assert [path.name for path in EXAMPLES] == sorted(
        ["continue_in_pytorch.py", "export_onnx.py", "lesson_step.py", "sklearn_pipeline.py"])


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(script, tmp_path):
    for module in NEEDS.get(script.name, []):
        pytest.importorskip(module)
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), environment.get("PYTHONPATH")]))
    arguments = [sys.executable, str(script)]
    if script.name == "export_onnx.py":
        arguments.append(str(tmp_path / "iris.onnx"))
    result = subprocess.run(arguments, cwd=tmp_path, capture_output=True, text=True, env=environment, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
