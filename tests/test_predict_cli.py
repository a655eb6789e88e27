"""glassnet predict and evaluate on CSV files and bundled data sets."""

import csv
import json

import numpy as np
import pytest

import glassnet as gn
from glassnet.cli.main import main


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _read_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def csv_model(tmp_path_factory):
    """A classifier trained with glassnet train on a CSV file with a categorical column."""
    folder = tmp_path_factory.mktemp("csv")
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(120):
        x = rng.normal(size=2)
        colour = rng.choice(["red", "blue"])
        label = "yes" if x[0] + (1.0 if colour == "red" else -1.0) > 0 else "no"
        rows.append([f"{x[0]:.4f}", f"{x[1]:.4f}", colour, label])
    data = folder / "train.csv"
    _write_csv(data, ["x1", "x2", "colour", "label"], rows)
    model = folder / "model.glassnet"
    assert main(["train", "--data", str(data), "--target", "label", "--epochs", "5", "--progress", "none",
                 "--out", str(model)]) == 0
    return model, data, rows


@pytest.fixture(scope="module")
def moons_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moons")
    model = folder / "moons.glassnet"
    assert main(["train", "--dataset", "moons", "--epochs", "3", "--progress", "none", "--out", str(model)]) == 0
    return model


def test_predict_csv_matches_model(tmp_path, csv_model, capsys):
    model_path, data, rows = csv_model
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model_path), str(data), "--proba", "--out", str(out)]) == 0
    header, predicted = _read_csv(out)
    assert header == ["prediction", "proba_no", "proba_yes"]
    assert len(predicted) == len(rows)
    model = gn.load_model(model_path)
    X = [[float(r[0]), float(r[1]), 1.0 if r[2] == "blue" else 0.0, 1.0 if r[2] == "red" else 0.0] for r in rows]
    expected = model.predict_proba(np.array(X))
    assert [row[0] for row in predicted] == list(model.predict(np.array(X)))
    assert np.array_equal(np.array([[float(v) for v in row[1:]] for row in predicted]), expected)


def test_predict_without_target_column_to_stdout(tmp_path, csv_model, capsys):
    model_path, _, rows = csv_model
    data = tmp_path / "inputs.csv"
    _write_csv(data, ["x1", "x2", "colour"], [row[:3] for row in rows[:5]])
    assert main(["predict", str(model_path), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction"
    assert len(lines) == 6
    assert set(lines[1:]) <= {"yes", "no"}


def test_predict_missing_column_one_line_error(tmp_path, csv_model, capsys):
    model_path, _, _ = csv_model
    data = tmp_path / "bad.csv"
    _write_csv(data, ["x1", "colour"], [["0.1", "red"]])
    assert main(["predict", str(model_path), str(data)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("glassnet predict: error:")
    assert "missing the feature columns ['x2']" in error
    assert len(error.strip().splitlines()) == 1


def test_predict_missing_model_file(tmp_path, capsys):
    data = tmp_path / "x.csv"
    _write_csv(data, ["x1"], [["1"]])
    assert main(["predict", str(tmp_path / "absent.glassnet"), str(data)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_predict_bundled_model_on_csv(tmp_path, moons_model, capsys):
    data = tmp_path / "points.csv"
    _write_csv(data, ["x1", "x2"], [["0.5", "0.2"], ["-1.0", "0.8"]])
    assert main(["predict", str(moons_model), str(data), "--proba"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction,proba_0,proba_1"
    model = gn.load_model(moons_model)
    expected = model.predict_proba(np.array([[0.5, 0.2], [-1.0, 0.8]]))
    assert float(lines[2].split(",")[2]) == expected[1, 1]


def test_evaluate_bundled_test_split_matches_train(moons_model, capsys):
    assert main(["evaluate", str(moons_model), "moons", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_samples"] == 200
    assert report["data"] == "moons test split (seed 0)"
    model = gn.load_model(moons_model)
    from glassnet.cli.model_data import bundled_test_split

    X_test, y_test, _ = bundled_test_split(model, "moons")
    assert report["metrics"]["accuracy"] == float(np.mean(model.predict(X_test) == y_test))
    assert len(report["metrics"]["confusion_matrix"]) == 2
    assert set(report["metrics"]["per_class"]) == {"0", "1"}


def test_evaluate_table(moons_model, capsys):
    assert main(["evaluate", str(moons_model), "moons"]) == 0
    text = capsys.readouterr().out
    for label in ("accuracy", "precision (macro)", "recall (macro)", "F1 (macro)", "log-loss",
                  "confusion matrix (rows: true class, columns: predicted class)"):
        assert label in text


def test_evaluate_csv_with_target(csv_model, capsys):
    model_path, data, rows = csv_model
    assert main(["evaluate", str(model_path), str(data), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_samples"] == len(rows)
    assert sum(map(sum, report["metrics"]["confusion_matrix"])) == len(rows)


def test_evaluate_csv_without_target_rejected(tmp_path, csv_model, capsys):
    model_path, _, rows = csv_model
    data = tmp_path / "inputs.csv"
    _write_csv(data, ["x1", "x2", "colour"], [row[:3] for row in rows[:5]])
    assert main(["evaluate", str(model_path), str(data)]) == 2
    assert "has no target column 'label'" in capsys.readouterr().err


def test_regression_predict_and_evaluate(tmp_path, capsys):
    rng = np.random.default_rng(2)
    rows = [[f"{a:.3f}", f"{b:.3f}", f"{3 * a - b + 50:.3f}"] for a, b in rng.normal(size=(100, 2))]
    data = tmp_path / "reg.csv"
    _write_csv(data, ["a", "b", "y"], rows)
    model_path = tmp_path / "reg.glassnet"
    assert main(["train", "--data", str(data), "--target", "y", "--task", "regression", "--epochs", "3",
                 "--progress", "none", "--out", str(model_path)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(model_path), str(data), "--format", "json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert set(metrics) == {"mse", "mae", "r2"}
    assert main(["predict", str(model_path), str(data), "--proba"]) == 2
    assert "--proba needs a classification model" in capsys.readouterr().err


def test_train_writes_history_files(tmp_path):
    csv_path = tmp_path / "history.csv"
    json_path = tmp_path / "history.json"
    for path in (csv_path, json_path):
        assert main(["train", "--dataset", "xor", "--epochs", "4", "--progress", "none",
                     "--history", str(path)]) == 0
    header, rows = _read_csv(csv_path)
    assert header[:3] == ["epoch", "step", "train_loss"]
    assert len(rows) == 4
    saved = json.loads(json_path.read_text())
    assert len(saved["records"]) == 4
    assert saved["stop_reason"] == "completed all 4 epochs"


def test_evaluate_other_data_set_rejected(moons_model, capsys):
    assert main(["evaluate", str(moons_model), "iris"]) == 2
    error = capsys.readouterr().err
    assert "Evaluate on the model's own data set (moons)" in error


def test_evaluate_missing_model_file(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "absent.glassnet"), "moons"]) == 2
    assert "does not exist" in capsys.readouterr().err
