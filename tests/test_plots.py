"""Plots: valid PNG files of the expected pixel size, from the API and the command line."""

import struct

import numpy as np
import pytest

from glassnet.cli.main import main
from glassnet.errors import InvalidInputError
from glassnet.model import TrainConfig, train_model
from glassnet.plots import plot_decision_boundary, plot_history
from glassnet.training import History

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """Return (width, height) from the IHDR chunk of a PNG file, checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


def _history():
    records = [{"epoch": e, "step": 10 * e, "train_loss": 1.0 / e, "learning_rate": 0.1, "val_loss": 1.2 / e,
                "val_accuracy": 0.5 + 0.04 * e, "seconds": 0.01} for e in range(1, 11)]
    return History(records=records, stop_reason="completed all 10 epochs")


def _model(n_features=2, task="classification"):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, n_features))
    if task == "classification":
        y = (X[:, 0] * X[:, 1] > 0).astype(int)
        return train_model(X, y, task=task, class_names=["a", "b"], config=TrainConfig(hidden=(6,), epochs=2)), X, y
    y = X[:, 0] - X[:, 1]
    return train_model(X, y, task=task, config=TrainConfig(hidden=(6,), epochs=2)), X, y


def test_history_plot_size(tmp_path):
    path = tmp_path / "curves.png"
    plot_history(_history(), path, width=8, height=3, dpi=50)
    assert png_size(path) == (400, 150)


def test_history_plot_without_validation(tmp_path):
    history = History(records=[{"epoch": 1, "step": 1, "train_loss": 0.5, "learning_rate": 0.1, "seconds": 0.0}])
    path = tmp_path / "curves.png"
    plot_history(history, path)
    assert png_size(path) == (1000, 400)


def test_history_plot_empty_rejected(tmp_path):
    with pytest.raises(InvalidInputError, match="history is empty"):
        plot_history(History(), tmp_path / "curves.png")


def test_boundary_plot_size(tmp_path):
    model, X, y = _model()
    path = tmp_path / "boundary.png"
    plot_decision_boundary(model, X, y, path, resolution=50, width=4, height=3, dpi=100)
    assert png_size(path) == (400, 300)


def test_boundary_plot_regression(tmp_path):
    model, X, y = _model(task="regression")
    path = tmp_path / "boundary.png"
    plot_decision_boundary(model, X, y, path, resolution=40)
    assert png_size(path) == (600, 600)


def test_boundary_plot_needs_two_features(tmp_path):
    model, X, y = _model(n_features=3)
    with pytest.raises(InvalidInputError, match="needs a model and data with 2 input features"):
        plot_decision_boundary(model, X, y, tmp_path / "boundary.png")


def test_boundary_plot_needs_class_names(tmp_path):
    model, X, y = _model()
    model.class_names = None
    with pytest.raises(InvalidInputError, match="plot_decision_boundary needs the class names .* class_names=None"):
        plot_decision_boundary(model, X, y, tmp_path / "boundary.png")


def test_cli_train_plot_and_boundary(tmp_path, capsys):
    curves = tmp_path / "curves.png"
    model = tmp_path / "moons.glassnet"
    status = main(["train", "--dataset", "moons", "--epochs", "3", "--progress", "none", "--plot", str(curves),
                   "--out", str(model)])
    assert status == 0
    assert png_size(curves) == (1000, 400)
    boundary = tmp_path / "boundary.png"
    assert main(["plot", "boundary", str(model), "--out", str(boundary)]) == 0
    assert png_size(boundary) == (600, 600)
    stored = tmp_path / "stored.png"
    assert main(["plot", "curves", str(model), "--out", str(stored)]) == 0
    assert png_size(stored) == (1000, 400)


def test_cli_boundary_trains_quick_model(tmp_path):
    boundary = tmp_path / "xor.png"
    assert main(["plot", "boundary", "--dataset", "xor", "--epochs", "5", "--out", str(boundary)]) == 0
    assert png_size(boundary) == (600, 600)


def test_cli_boundary_rejects_wide_data(tmp_path, capsys):
    assert main(["plot", "boundary", "--dataset", "iris", "--out", str(tmp_path / "x.png")]) == 2
    assert "needs 2" in capsys.readouterr().err
