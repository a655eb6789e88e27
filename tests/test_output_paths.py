"""Output paths are checked before any work, and no command writes over its own input."""

import numpy as np
import pytest

from glassnet.cli.main import main
from glassnet.errors import DivergenceError
from glassnet.netfile import load_problem
from glassnet.serialization import atomic_write_text


def run_cli(capsys, *argv):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def moons_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "moons.glassnet"
    assert main(["train", "--dataset", "moons", "--epochs", "1", "--progress", "none", "--out", str(path)]) == 0
    return path


def _features_csv(path):
    rows = np.random.default_rng(0).normal(size=(5, 2))
    path.write_text("x1,x2\n" + "".join(f"{a},{b}\n" for a, b in rows))
    return path


@pytest.mark.parametrize("target", ["data", "model"])
def test_predict_rejects_output_over_input(capsys, tmp_path, moons_model, target):
    model = tmp_path / "m.glassnet"
    model.write_bytes(moons_model.read_bytes())
    data = _features_csv(tmp_path / "x.csv")
    before = {model: model.read_bytes(), data: data.read_bytes()}
    out = data if target == "data" else model
    status, _, err = run_cli(capsys, "predict", model, data, "--out", out)
    assert status == 2
    assert err.count("\n") == 1
    assert f"--out {out}" in err
    assert "overwrite" in err
    assert {path: path.read_bytes() for path in before} == before


def test_train_rejects_one_file_for_two_outputs(capsys, tmp_path):
    out = tmp_path / "m.glassnet"
    status, stdout, err = run_cli(capsys, "train", "--dataset", "xor", "--progress", "none",
                                  "--out", out, "--history", out)
    assert status == 2
    assert "--history" in err
    assert "--out also writes" in err
    assert "accuracy" not in stdout
    assert not out.exists()


def test_train_rejects_history_over_data(capsys, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    before = data.read_bytes()
    status, _, err = run_cli(capsys, "train", "--data", data, "--history", data, "--progress", "none")
    assert status == 2
    assert "--data reads" in err
    assert data.read_bytes() == before


@pytest.mark.parametrize("argv", [
    ["train", "--dataset", "xor", "--progress", "none", "--out", "{folder}"],
    ["train", "--dataset", "xor", "--progress", "none", "--plot", "{missing}/c.png"],
    ["train", "--dataset", "xor", "--progress", "none", "--history", "/proc/h.csv"],
    ["demo", "--html", "{folder}"],
    ["explain", "lesson", "--format", "markdown", "--output", "{missing}/x.md"],
    ["exercise", "--output", "{folder}"],
])
def test_unwritable_output_fails_before_work(capsys, tmp_path, argv):
    argv = [part.format(folder=tmp_path, missing=tmp_path / "missing") for part in argv]
    status, stdout, err = run_cli(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1
    assert ("is a folder" in err or "does not exist" in err or "cannot be written" in err)
    assert "accuracy" not in stdout
    assert ".tmp" not in err


def test_atomic_write_to_folder_names_it(tmp_path):
    with pytest.raises(IsADirectoryError) as caught:
        atomic_write_text(tmp_path, "text")
    assert caught.value.filename == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_steps_stop_at_first_non_finite():
    problem = load_problem(None, {"learning_rate": 1e308})
    with pytest.raises(DivergenceError, match=r"step 2 diverged: z2 became inf\. Lower the learning rate") as caught:
        problem.run(3)
    assert caught.value.step == 2


def test_demo_divergence_is_one_line_error(capsys):
    status, stdout, err = run_cli(capsys, "demo", "--learning-rate", "1e308", "--steps", "3")
    assert status == 2
    assert err.count("\n") == 1
    assert "diverged" in err
    assert "inf" not in stdout
    assert "nan" not in stdout


# Bad numbers at the API boundary: each a glassnet error naming the argument, never a
# ZeroDivisionError, an AttributeError or a silent report of NaN.

def test_max_seconds_must_be_positive(capsys):
    for value in ("-1", "0", "nan"):
        status, stdout, err = run_cli(capsys, "train", "--dataset", "xor", "--progress", "none",
                                      "--max-seconds", value)
        assert status == 2
        assert "max_seconds=" in err
        assert "expected a finite number > 0" in err
        assert "accuracy" not in stdout


@pytest.mark.parametrize("options", [{"eps": 0}, {"eps": -1e-3}, {"eps": float("nan")}, {"tolerance": float("nan")}])
def test_gradcheck_rejects_bad_eps(options):
    import glassnet as gn
    from glassnet.errors import InvalidInputError

    network = gn.mlp([2, 3, 1], seed=0, dtype="float64")
    with pytest.raises(InvalidInputError, match=next(iter(options))):
        gn.gradcheck(network, [[0.1, 0.2]], [[1.0]], **options)


def test_empty_batch_rejected():
    import glassnet as gn
    from glassnet.errors import InvalidInputError

    network = gn.mlp([2, 3, 1], seed=0, dtype="float64")
    with pytest.raises(InvalidInputError, match=r"X is empty \(shape \(0, 2\)\)"):
        network.step(np.zeros((0, 2)), np.zeros((0, 1)))
    with pytest.raises(InvalidInputError, match=r"X is empty \(shape \(0, 2\)\)"):
        gn.gradcheck(network, np.zeros((0, 2)), np.zeros((0, 1)))


def test_step_rejects_non_optimizer():
    import glassnet as gn
    from glassnet.errors import InvalidTypeError

    network = gn.mlp([2, 3, 1], seed=0, dtype="float64")
    with pytest.raises(InvalidTypeError, match="optimizer=0.1"):
        network.step([[0.1, 0.2]], [[1.0]], "half-squared-error", 0.1)


@pytest.mark.parametrize("command", ["step", "explain", "diagnose"])
def test_binary_network_file_is_named(capsys, moons_model, command):
    status, _, err = run_cli(capsys, command, moons_model)
    assert status == 2
    assert f"network file '{moons_model}' is not UTF-8 text" in err
    assert "--model" in err


def test_folder_as_network_file_is_named(capsys, tmp_path):
    status, _, err = run_cli(capsys, "step", tmp_path)
    assert status == 2
    assert "is a folder" in err


def test_standardizer_handles_values_near_float_limit():
    import warnings

    from glassnet.data import Standardizer

    X = np.array([[1e300, 1.0], [-1e300, 2.0], [3.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled = Standardizer().fit_transform(X)
    assert np.isfinite(scaled).all()
    np.testing.assert_allclose(scaled[:, 0], [1.224744871391589, -1.224744871391589, 0.0], atol=1e-12)
    np.testing.assert_allclose(scaled[:, 1], [-1.224744871391589, 0.0, 1.224744871391589])


def test_regression_target_nan_names_y_train():
    from glassnet.errors import InvalidInputError
    from glassnet.model import TrainConfig, train_model

    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(InvalidInputError, match=r"y_train contains nan at row 1"):
        train_model(X, [1.0, np.nan, 2.0, 3.0], task="regression", config=TrainConfig(epochs=1))


def test_onnx_opset_newer_than_onnx_knows_is_rejected(tmp_path):
    onnx = pytest.importorskip("onnx")
    import glassnet as gn
    from glassnet.errors import InvalidInputError
    from glassnet.export import to_onnx

    newest = onnx.defs.onnx_opset_version()
    network = gn.mlp([2, 3, 1], seed=0)
    with pytest.raises(InvalidInputError, match=f"opset={newest + 1} is not supported"):
        to_onnx(network, tmp_path / "net.onnx", opset=newest + 1)
    assert not (tmp_path / "net.onnx").exists()


def test_binary_answers_file_is_named(capsys, moons_model):
    status, _, err = run_cli(capsys, "check", moons_model, "--against", "lesson")
    assert status == 2
    assert f"answers file '{moons_model}' is not UTF-8 text" in err


def test_dense_weight_shape_error_describes_weights():
    import glassnet as gn
    from glassnet.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"W has shape \(1, 1\); expected \(2, 1\)\. W has one row per input"):
        gn.Dense(2, 1, W=[[1.0]], b=[0.0])


def test_csv_with_one_class_names_the_column(capsys, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("x1,y\n1,a\n2,a\n3,a\n")
    status, _, err = run_cli(capsys, "train", "--data", data, "--progress", "none")
    assert status == 2
    assert "target column 'y' has only one class ('a')" in err
