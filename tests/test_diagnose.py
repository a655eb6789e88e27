"""The numerical health report names each condition that is built on purpose."""

import json
import logging
import re

import numpy as np
import pytest

import glassnet as gn
from conftest import MixLayer
from glassnet.cli.main import main
from glassnet.diagnose import HealthMonitor, diagnose
from glassnet.netfile import lesson_path
from glassnet.training import fit

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4))
T = RNG.normal(size=(32, 1))

LINE_FILE = """
[network]
dtype = "float64"

[[layers]]
type = "dense"
in_features = 1
out_features = 1
W = [[0.0]]
b = [0.0]

[data]
X = [[1.0], [2.0], [3.0]]
t = [[2.0], [4.0], [6.0]]

[training]
loss = "half-squared-error"
optimizer = "sgd"
learning_rate = {learning_rate}
"""


def test_healthy_network_no_findings():
    network = gn.mlp([4, 8, 1], seed=0, dtype="float64")
    report = diagnose(network, X, T)
    assert report.healthy, str(report)
    assert "No problems found" in str(report)
    assert [layer.name for layer in report.layers] == ["dense1", "relu1", "dense2"]


def test_dead_relu_units_named():
    # A bias of -100 keeps units 0-2 below zero for every standard-normal input.
    network = gn.Sequential([gn.Dense(4, 6, b=[-100.0, -100.0, -100.0, 0.0, 0.0, 0.0], seed=0), gn.ReLU(),
                             gn.Dense(6, 1, seed=1)])
    report = diagnose(network, X, T)
    assert report.kinds() == ["dead"]
    finding = report.findings[0]
    assert finding.layer == "relu1"
    assert "3 of 6 ReLU units are dead (units 0, 1, 2)" in finding.message
    assert "LeakyReLU" in finding.advice
    assert report.layers[1].dead_units == 3


def test_dead_fraction_threshold():
    network = gn.Sequential([gn.Dense(4, 4, b=[-100.0, 0.0, 0.0, 0.0], seed=0), gn.ReLU(), gn.Dense(4, 1, seed=1)])
    assert diagnose(network, X, T).kinds() == ["dead"]
    assert diagnose(network, X, T, dead_fraction=0.5).healthy


@pytest.mark.parametrize("kind", ["sigmoid", "tanh"])
def test_saturated_units_named(kind):
    W = RNG.normal(size=(4, 6)) * 100
    network = gn.Sequential([gn.Dense(4, 6, W=W), gn.layers.make_activation(kind), gn.Dense(6, 1, seed=1)])
    report = diagnose(network, X, T)
    assert "saturated" in report.kinds()
    finding = report.findings[report.kinds().index("saturated")]
    assert finding.layer == f"{kind}1"
    assert f"6 of 6 {kind} units are saturated" in finding.message
    assert "Standardise the inputs" in finding.advice


def test_fused_output_not_saturated():
    # Sigmoid + binary cross-entropy: the output's derivative cancels, so its saturation is harmless.
    network = gn.Sequential([gn.Dense(4, 1, W=np.full((4, 1), 100.0)), gn.Sigmoid()])
    targets = (X[:, :1] > 0).astype(float)
    assert "saturated" not in diagnose(network, X, targets, "binary-cross-entropy").kinds()
    assert "saturated" in diagnose(network, X, targets, "half-squared-error").kinds()


def test_vanishing_gradients_named():
    network = gn.mlp([4] + [16] * 8 + [1], activation="sigmoid", seed=0, dtype="float64")
    report = diagnose(network, X, T)
    assert "vanishing" in report.kinds()
    finding = report.findings[report.kinds().index("vanishing")]
    assert finding.layer == "dense1"
    assert "gradients vanish towards the input" in finding.message
    assert "at dense9" in finding.message
    assert "ReLU" in finding.advice


def test_exploding_gradients_named():
    # W2 = 1e4 multiplies the delta flowing into layer 1, so ||dW1|| is about 1e4 times ||dW2||.
    network = gn.Sequential([gn.Dense(4, 4, seed=0), gn.ReLU(), gn.Dense(4, 1, W=np.full((4, 1), 1e4))],
                            dtype="float64")
    report = diagnose(network, X, T)
    assert "exploding" in report.kinds()
    finding = report.findings[report.kinds().index("exploding")]
    assert "explode towards the input" in finding.message
    assert "clip" in finding.advice
    norms = [layer.weight_grad_norm for layer in report.layers if layer.weight_grad_norm is not None]
    assert norms[0] > 1e3 * norms[1]


def test_large_gradient_norm_named():
    network = gn.Sequential([gn.Dense(4, 1, W=np.full((4, 1), 1e4))], dtype="float64")
    report = diagnose(network, X, T)
    assert report.kinds() == ["exploding"]
    assert "above 1000" in report.findings[0].message


def test_large_update_needs_learning_rate():
    network = gn.Sequential([gn.Dense(4, 1, W=np.full((4, 1), 1.0))], dtype="float64")
    targets = X @ np.full((4, 1), -5.0)
    assert diagnose(network, X, targets).healthy
    report = diagnose(network, X, targets, learning_rate=10.0)
    assert report.kinds() == ["large update"]
    assert "learning rate 10" in report.findings[0].message


def test_first_non_finite_forward_named():
    # z1 = x · 1e300 is finite, but a1 · W2 with W2 = 1e300 overflows: y is the first inf.
    network = gn.Sequential([gn.Dense(4, 3, W=np.full((4, 3), 1e300)), gn.ReLU(),
                             gn.Dense(3, 1, W=[[1e300], [1e300], [1e300]])], dtype="float64")
    report = diagnose(network, np.abs(X), T)
    assert report.kinds()[-1] == "non-finite"
    message = report.findings[-1].message
    assert "first non-finite value appears in y" in message
    assert "a1 · W2 + b2" in message
    assert "forward pass" in message


def test_first_non_finite_loss_named():
    network = gn.Sequential([gn.Dense(1, 1, W=[[1e200]])], dtype="float64")
    report = diagnose(network, [[1.0]], [[0.0]])
    assert "first non-finite value appears in L" in report.findings[-1].message
    assert "loss pass" in report.findings[-1].message


def test_first_non_finite_backward_named():
    # a1 = 1e300 and y = a1 · 1e-300 = 1 are finite, and so is the loss ½ (1 + 1e10)²,
    # but dW2 = a1ᵀ · delta2 = 1e300 · (1 + 1e10) overflows.
    network = gn.Sequential([gn.Dense(1, 1, W=[[1e300]]), gn.ReLU(), gn.Dense(1, 1, W=[[1e-300]])],
                            dtype="float64")
    report = diagnose(network, [[1.0]], [[-1e10]])
    assert np.isfinite(report.loss)
    message = report.findings[-1].message
    assert "first non-finite value appears in dW2" in message
    assert "backward pass" in message
    assert "a1, delta2 were finite" in message


def test_non_finite_parameter_named():
    network = gn.mlp([4, 3, 1], seed=0, dtype="float64")
    network.layers[0].params["W"][1, 2] = np.nan
    report = diagnose(network, X, T)
    assert report.kinds()[0] == "non-finite parameter"
    assert "dense1.W contains nan at index (1, 2)" in report.findings[0].message
    assert "non-finite" not in report.kinds()


def test_diagnose_changes_nothing():
    network = gn.mlp([4, 5, 1], seed=0, dtype="float64", dropout=0.5)
    fit(network, X, T, epochs=1, batch_size=8)
    parameters = network.get_parameters()
    gradients = {name: grad.copy() for name, grad in network.gradients()}
    rng_state = network.layers[2].rng.bit_generator.state
    diagnose(network, X, T)
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, parameters[name])
    for name, grad in network.gradients():
        np.testing.assert_array_equal(grad, gradients[name])
    assert network.layers[2].rng.bit_generator.state == rng_state
    assert network.layers[2].training


def test_forward_only_without_targets():
    network = gn.Sequential([gn.Dense(4, 2, b=[-100.0, 0.0]), gn.ReLU(), gn.Dense(2, 1)])
    report = diagnose(network, X)
    assert report.kinds() == ["dead"]
    assert report.loss is None
    assert all(layer.weight_grad_norm is None for layer in report.layers)


def test_diagnose_rejects_bad_input():
    network = gn.mlp([4, 3, 1], seed=0)
    with pytest.raises(gn.InvalidInputError, match=r"row 0, column 1"):
        diagnose(network, [[1.0, np.nan, 0.0, 0.0]])
    with pytest.raises(gn.InvalidInputError, match=r"X is empty"):
        diagnose(network, np.zeros((0, 4)))
    with pytest.raises(gn.InvalidTypeError, match=r"expected a glassnet Sequential"):
        diagnose("network", X)
    with pytest.raises(gn.InvalidInputError, match=r"dead_fraction=2"):
        diagnose(network, X, dead_fraction=2)


def test_report_json_ready():
    network = gn.Sequential([gn.Dense(4, 2, b=[-100.0, 0.0]), gn.ReLU(), gn.Dense(2, 1)])
    document = json.loads(json.dumps(diagnose(network, X, T).to_dict()))
    assert document["healthy"] is False
    assert document["findings"][0]["kind"] == "dead"
    assert document["layers"][1]["dead_units"] == 1


def test_health_monitor_logs_findings(caplog):
    network = gn.Sequential([gn.Dense(4, 3, b=[-100.0, 0.0, 0.0]), gn.ReLU(), gn.Dense(3, 1)], dtype="float64")
    monitor = HealthMonitor(X, T, every=2)
    with caplog.at_level(logging.WARNING, logger="glassnet.diagnose"):
        fit(network, X, T, epochs=4, batch_size=8, callbacks=[monitor], optimizer=gn.SGD(learning_rate=0.01))
    assert [epoch for epoch, _ in monitor.reports] == [2, 4]
    assert all("dead" in report.kinds() for _, report in monitor.reports)
    assert "epoch 2: relu1: 1 of 3 ReLU units are dead" in caplog.text


def test_health_monitor_keeps_training_identical():
    def train(callbacks):
        network = gn.mlp([4, 6, 1], seed=3, dtype="float64", dropout=0.3)
        fit(network, X, T, epochs=3, batch_size=8, seed=1, callbacks=callbacks)
        return network.get_parameters()

    plain = train([])
    monitored = train([HealthMonitor(X[:8], T[:8])])
    for name in plain:
        np.testing.assert_array_equal(plain[name], monitored[name])


def test_cli_diagnose_lesson(capsys):
    status = main(["diagnose", str(lesson_path())])
    out = capsys.readouterr().out
    assert status == 0
    assert "No problems found" in out
    assert "dense2" in out


def test_cli_diagnose_divergence(tmp_path, capsys):
    path = tmp_path / "line.toml"
    path.write_text(LINE_FILE.format(learning_rate=1.0))
    status = main(["diagnose", str(path), "--steps", "1000"])
    out = capsys.readouterr().out
    assert status == 1
    assert "training diverged at epoch 235, step 235: the training loss became inf" in out
    assert "first non-finite value appears in L" in out
    assert "learning rate 1 would move the weights" in out


def test_cli_diagnose_converges(tmp_path, capsys):
    path = tmp_path / "line.toml"
    path.write_text(LINE_FILE.format(learning_rate=0.1))
    status = main(["diagnose", str(path), "--steps", "2000", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["diverged"] is None
    assert document["loss"] < 1e-18


def test_cli_diagnose_json_divergence(tmp_path, capsys):
    path = tmp_path / "line.toml"
    path.write_text(LINE_FILE.format(learning_rate=1.0).replace('dtype = "float64"', 'dtype = "float32"'))
    status = main(["diagnose", str(path), "--steps", "1000", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert status == 1
    assert document["diverged"]["step"] == 29
    assert "lower the learning rate" in document["diverged"]["message"].lower()


@pytest.mark.parametrize("argv, pattern", [
    (["--steps", "-1"], r"--steps -1 is negative"),
    (["--steps", "x"], r"--steps: invalid int value"),
])
def test_cli_diagnose_bad_options(tmp_path, capsys, argv, pattern):
    path = tmp_path / "line.toml"
    path.write_text(LINE_FILE.format(learning_rate=0.1))
    try:
        status = main(["diagnose", str(path), *argv])
    except SystemExit as exc:
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert re.search(pattern, err), err


def saved_regression_model(tmp_path):
    from glassnet.data import load_csv
    from glassnet.model import TrainConfig, train_model
    from glassnet.serialization import save_model

    path = tmp_path / "train.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{2 * i + 1}\n" for i in range(12)))
    dataset = load_csv(path, target="y", task="regression")
    model = train_model(dataset.X, dataset.y, task="regression", feature_names=dataset.feature_names,
                        config=TrainConfig(hidden=(4,), epochs=2, validation_fraction=0.0))
    model.schema = dataset.schema.to_dict()
    model_path = tmp_path / "model.glassnet"
    save_model(model, model_path)
    return str(model_path), str(path)


def test_cli_diagnose_saved_model(tmp_path, capsys):
    model_path, data_path = saved_regression_model(tmp_path)
    status = main(["diagnose", "--model", model_path, "--data", data_path, "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert status in (0, 1)
    assert document["batch_size"] == 12
    assert np.isfinite(document["loss"])
    assert [layer["name"] for layer in document["layers"]] == ["dense1", "relu1", "dense2"]


def test_cli_diagnose_model_nan_csv(tmp_path, capsys):
    model_path, _ = saved_regression_model(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,y\n1,2,3\n,1,2\n")
    status = main(["diagnose", "--model", model_path, "--data", str(bad)])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert "'a'" in err
    assert "row 1" in err


@pytest.mark.parametrize("argv, pattern", [
    ([], r"give either a network FILE or --model"),
    (["--model", "m.glassnet"], r"--model needs --data"),
])
def test_cli_diagnose_source_required(capsys, argv, pattern):
    status = main(["diagnose", *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert re.search(pattern, err), err


def test_diagnose_skips_custom_layer():
    network = gn.Sequential([gn.Dense(3, 4, seed=0), gn.Tanh(), MixLayer(4), gn.Dense(4, 2, seed=1)])
    X = np.random.default_rng(0).standard_normal((5, 3))
    report = diagnose(network, X, np.zeros((5, 2)), "mse")
    assert [layer.name for layer in report.layers] == ["dense1", "tanh1", "dense2"]
