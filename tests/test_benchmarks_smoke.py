"""The benchmark suite runs end to end and produces every row (no timing is checked)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

EXPECTED_PAIRS = {
    ("mlp784", "glassnet"),
    ("mlp784", "torch"),
    ("mlp784", "sklearn"),
    ("mlp784", "numpy_reference"),
    ("mlp784", "matmul_limit"),
    ("lesson221", "glassnet"),
    ("lesson221", "glassnet_trace"),
    ("lesson221", "numpy_reference"),
    ("lesson221", "torch"),
    ("lesson221", "micrograd"),
    ("demo_cli", "glassnet"),
    ("demo_cli", "python_import_numpy"),
    ("digits_to_0975", "glassnet"),
    ("digits_to_0975", "sklearn"),
}

MEASURED_FIELD = {
    "throughput": "samples_per_second",
    "peak_memory": "peak_memory_mb",
    "step_time": "microseconds_per_step",
    "wall_time": "seconds",
    "time_to_accuracy": "seconds",
}


@pytest.fixture(scope="module")
def smoke_rows():
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("threadpoolctl")
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), environment.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--format", "json"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=1200,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def test_smoke_run_has_every_case_and_implementation(smoke_rows):
    pairs = {(row["case"], row["implementation"]) for row in smoke_rows}
    assert pairs == EXPECTED_PAIRS


def test_smoke_run_rows_carry_their_measurement(smoke_rows):
    for row in smoke_rows:
        for key in ("case", "implementation", "batch_size", "dtype", "measure"):
            assert key in row, row
        value = row[MEASURED_FIELD[row["measure"]]]
        assert isinstance(value, float) and value > 0, row


def test_smoke_run_covers_every_mlp_configuration(smoke_rows):
    throughput = {(row["implementation"], row["batch_size"], row["dtype"], row["optimizer"])
                  for row in smoke_rows if row["case"] == "mlp784" and row["measure"] == "throughput"}
    for dtype in ("float32", "float64"):
        for batch_size in (32, 128, 1024):
            for implementation, optimizer in [("glassnet", "sgd"), ("torch", "sgd"), ("numpy_reference", "sgd"),
                                              ("matmul_limit", "none"), ("glassnet", "sgd_nesterov_l2"),
                                              ("sklearn", "sgd_nesterov_l2")]:
                assert (implementation, batch_size, dtype, optimizer) in throughput


def test_smoke_run_measures_peak_memory(smoke_rows):
    memory = {row["implementation"] for row in smoke_rows if row["measure"] == "peak_memory"}
    assert memory == {"glassnet", "numpy_reference", "torch", "sklearn"}


def test_smoke_run_times_both_commands(smoke_rows):
    commands = {row["command"] for row in smoke_rows if row["case"] == "demo_cli"}
    assert commands == {"glassnet demo", "glassnet --help", "python -c 'import numpy'"}


def test_smoke_rows_render_across_runs(smoke_rows, tmp_path):
    # Two copies of the same run: every target's median equals the single run's ratio.
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.report import targets, targets_across_runs
    finally:
        sys.path.remove(str(ROOT))
    table = targets_across_runs([smoke_rows, smoke_rows])
    rows = [line for line in table.splitlines() if line.startswith("| mlp784") or line.startswith("| lesson221")]
    checks = [check for check in targets(smoke_rows) if check[0].startswith(("mlp784", "lesson221"))]
    assert len(rows) == len(checks)
    for line, (text, value, _, met, _) in zip(rows, checks):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[0] == text
        assert cells[1] == cells[2] == cells[3]
        assert cells[-1] == ("met" if met else "NOT met")


def test_breakdown_times_every_layer():
    pytest.importorskip("threadpoolctl")
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), environment.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.breakdown", "--batch-size", "64", "--samples", "256", "--epochs", "1"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    labels = [line.strip().split("  ")[0] for line in completed.stdout.splitlines()[1:]]
    layers = ["dense1", "relu1", "dense2", "relu2", "dense3", "softmax3"]
    expected = [f"{name} forward" for name in layers] + [f"{name} backward" for name in reversed(layers[:-1])]
    assert labels == expected + ["gather", "whole pass", "optimizer step with divergence check", "step"]


def _run_benchmarks(*arguments, timeout=120):
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), environment.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", *arguments], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("content", [
    None, "not json\n", '{"case": "mlp784"}\n', '["mlp784"]\n', "[{}]\n",
    '[{"case": "mlp784", "implementation": "glassnet", "measure": "throughput"}]\n',
], ids=["missing", "not-json", "object", "list-of-strings", "row-without-keys", "row-without-figures"])
def test_render_rejects_unusable_file(tmp_path, content):
    pytest.importorskip("threadpoolctl")
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    completed = _run_benchmarks("benchmarks", "render", str(path))
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("python -m benchmarks render: error:")
    assert str(path) in completed.stderr


def test_render_rejects_no_files():
    completed = _run_benchmarks("benchmarks", "render")
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "give one or more JSON files" in completed.stderr


@pytest.mark.parametrize("arguments", [["--batch-size", "0"], ["--batch-size", "1024", "--samples", "512"],
                                       ["--epochs", "0"], ["--samples", "-1"]],
                         ids=["zero-batch", "batch-above-samples", "no-timed-epoch", "negative-samples"])
def test_breakdown_rejects_invalid_sizes(arguments):
    completed = _run_benchmarks("benchmarks.breakdown", "--samples", "256", *arguments)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "error:" in completed.stderr


def test_render_names_when_its_environment_was_read(smoke_rows, tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(smoke_rows))
    completed = _run_benchmarks("benchmarks", "render", str(path))
    assert completed.returncode == 0, completed.stderr
    environment = completed.stdout.split("## mlp784")[0]
    # The runs' load average is on their standard error; the render's own would mislead.
    assert "Read when these tables were rendered, not when the runs ran" in environment
    assert "- load average" not in environment
    assert "None" not in environment
