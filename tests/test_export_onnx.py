"""ONNX export: onnx.checker accepts the graph and onnxruntime reproduces glassnet's predictions."""

import json
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import glassnet as gn
from glassnet.errors import InvalidInputError, InvalidTypeError, MissingDependencyError, NotFittedError
from glassnet.export import to_onnx
from glassnet.model import Model

HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
OUTPUTS = ["identity", "sigmoid", "softmax"]
TOLERANCE = 1e-5


def run_onnx(proto, X):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    values = session.run(None, {"X": np.asarray(X, dtype=np.float32)})
    return dict(zip(names, values))


def inputs(n_features, n_samples=9, seed=0):
    return np.random.default_rng(seed).normal(size=(n_samples, n_features)) * 2.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_network_matches_onnxruntime(hidden, output, dtype):
    width = 1 if output == "sigmoid" else 3
    network = gn.mlp([4, 6, 5, width], activation=hidden, output=output, seed=11, dtype=dtype)
    X = inputs(4)
    proto = to_onnx(network)
    onnx.checker.check_model(proto, full_check=True)
    result = run_onnx(proto, X)
    assert list(result) == ["output"]
    np.testing.assert_allclose(result["output"], network.predict(X), rtol=0, atol=TOLERANCE)


def test_network_with_dropout_exports_inference_graph():
    network = gn.mlp([3, 8, 2], activation="relu", output="softmax", seed=2, dropout=0.5)
    X = inputs(3)
    operators = [node.op_type for node in to_onnx(network).graph.node]
    assert "Dropout" not in operators
    np.testing.assert_allclose(run_onnx(to_onnx(network), X)["output"], network.predict(X), atol=TOLERANCE)


def test_leaky_relu_alpha_is_kept():
    network = gn.Sequential([gn.Dense(2, 2, W=[[1.0, -1.0], [0.5, 2.0]]), gn.LeakyReLU(0.2)])
    node = [node for node in to_onnx(network).graph.node if node.op_type == "LeakyRelu"][0]
    assert onnx.helper.get_attribute_value(node.attribute[0]) == pytest.approx(0.2)
    X = np.array([[1.0, 1.0], [-3.0, 0.5]])
    np.testing.assert_allclose(run_onnx(to_onnx(network), X)["output"], network.predict(X), atol=TOLERANCE)


def test_file_written_and_loaded(tmp_path):
    network = gn.mlp([2, 3, 1], activation="tanh", output="sigmoid", seed=0)
    path = tmp_path / "net.onnx"
    to_onnx(network, path)
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    X = inputs(2)
    np.testing.assert_allclose(session.run(None, {"X": X.astype(np.float32)})[0], network.predict(X),
                               atol=TOLERANCE)


# ---------------------------------------------------------------- models with preprocessing

def classification_model(class_names, width):
    rng = np.random.default_rng(4)
    output = "sigmoid" if width == 1 else "softmax"
    network = gn.mlp([3, 7, width], activation="relu", output=output, seed=5)
    return Model(network=network, task="classification",
                 loss="binary-cross-entropy" if width == 1 else "categorical-cross-entropy",
                 class_names=class_names, mean=rng.normal(size=3) * 10, scale=rng.uniform(0.5, 4.0, size=3),
                 feature_names=["a", "b", "c"])


@pytest.mark.parametrize(
    "class_names,width",
    [(["setosa", "versicolor", "virginica"], 3), (["no", "yes"], 1), ([3, 5, 7, 9], 4)],
    ids=["strings", "binary", "integers"],
)
def test_classification_model_outputs_and_labels(class_names, width):
    model = classification_model(class_names, width)
    X = inputs(3) * 10 + model.mean
    result = run_onnx(to_onnx(model), X)
    np.testing.assert_allclose(result["probabilities"], model.predict_proba(X), rtol=0, atol=TOLERANCE)
    assert result["label"].tolist() == model.predict(X).tolist()


def test_classification_model_standardisation_nodes():
    model = classification_model(["a", "b", "c"], 3)
    proto = to_onnx(model)
    operators = [node.op_type for node in proto.graph.node]
    assert operators[:2] == ["Sub", "Div"]
    constants = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in proto.graph.initializer}
    np.testing.assert_allclose(constants["input_mean"][0], model.mean.astype(np.float32))
    np.testing.assert_allclose(constants["input_scale"][0], model.scale.astype(np.float32))


def test_classification_model_metadata():
    model = classification_model(["setosa", "versicolor", "virginica"], 3)
    metadata = {entry.key: entry.value for entry in to_onnx(model).metadata_props}
    assert json.loads(metadata["class_names"]) == ["setosa", "versicolor", "virginica"]
    assert json.loads(metadata["feature_names"]) == ["a", "b", "c"]
    assert metadata["task"] == "classification"
    assert metadata["glassnet_version"] == gn.__version__
    assert "Sub and Div" in metadata["input_standardisation"]


def test_regression_model_target_scaling():
    rng = np.random.default_rng(8)
    network = gn.mlp([3, 6, 2], activation="tanh", seed=1)
    model = Model(network=network, task="regression", loss="mean-squared-error", mean=rng.normal(size=3),
                  scale=rng.uniform(1, 2, size=3), target_mean=np.array([100.0, -5.0]),
                  target_scale=np.array([20.0, 0.5]))
    X = inputs(3)
    result = run_onnx(to_onnx(model), X)
    expected = model.output(X)
    np.testing.assert_allclose(result["output"], expected, rtol=1e-6, atol=TOLERANCE)


# ---------------------------------------------------------------- estimators

def test_classifier_estimator_matches():
    from glassnet.sklearn import GlassClassifier

    X = inputs(4, n_samples=30)
    y = np.array(["cat", "dog", "fox"])[np.arange(30) % 3]
    model = GlassClassifier(hidden_layer_sizes=(6,), max_iter=20, random_state=0).fit(X, y)
    result = run_onnx(to_onnx(model), X)
    np.testing.assert_allclose(result["probabilities"], model.predict_proba(X), rtol=0, atol=TOLERANCE)
    assert result["label"].tolist() == model.predict(X).tolist()


def test_binary_classifier_estimator_matches():
    from glassnet.sklearn import GlassClassifier

    X = inputs(2, n_samples=20)
    y = np.where(X[:, 0] > 0, 1, 0)
    model = GlassClassifier(hidden_layer_sizes=(4,), activation="tanh", max_iter=30, random_state=0).fit(X, y)
    result = run_onnx(to_onnx(model), X)
    np.testing.assert_allclose(result["probabilities"], model.predict_proba(X), rtol=0, atol=TOLERANCE)
    assert result["label"].dtype == np.int64
    assert result["label"].tolist() == model.predict(X).tolist()


@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_estimator_matches(n_targets):
    from glassnet.sklearn import GlassRegressor

    X = inputs(3, n_samples=25)
    y = X @ np.arange(3 * n_targets).reshape(3, n_targets)
    if n_targets == 1:
        y = y[:, 0]
    model = GlassRegressor(hidden_layer_sizes=(5,), max_iter=10, random_state=0, dtype="float64").fit(X, y)
    result = run_onnx(to_onnx(model), X)
    assert result["output"].shape == model.predict(X).shape
    np.testing.assert_allclose(result["output"], model.predict(X), rtol=1e-6, atol=TOLERANCE)


# ---------------------------------------------------------------- errors

def test_unfitted_estimator_raises():
    from glassnet.sklearn import GlassClassifier

    with pytest.raises(NotFittedError, match="this GlassClassifier is not fitted yet"):
        to_onnx(GlassClassifier())


def test_unknown_model_type_raises():
    with pytest.raises(InvalidTypeError, match="model is a dict; expected a glassnet Sequential"):
        to_onnx({"W": [1.0]})


def test_old_opset_raises():
    with pytest.raises(InvalidInputError, match="opset=11 is not supported; use an integer >= 13"):
        to_onnx(gn.mlp([2, 1], seed=0), opset=11)


def test_missing_onnx_names_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'glassnet\[onnx\]'"):
        to_onnx(gn.mlp([2, 1], seed=0))


# ---------------------------------------------------------------- command line

def test_cli_exports_saved_model(tmp_path, capsys):
    from glassnet.cli.main import main
    from glassnet.serialization import save_model

    model = classification_model(["setosa", "versicolor", "virginica"], 3)
    save_model(model, tmp_path / "iris.glassnet")
    status = main(["export", str(tmp_path / "iris.glassnet"), "--onnx", str(tmp_path / "iris.onnx")])
    assert status == 0
    assert "wrote" in capsys.readouterr().out
    session = ort.InferenceSession(str(tmp_path / "iris.onnx"), providers=["CPUExecutionProvider"])
    X = inputs(3) * 10 + model.mean
    probabilities, labels = session.run(None, {"X": X.astype(np.float32)})
    np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=0, atol=TOLERANCE)
    assert labels.tolist() == model.predict(X).tolist()


def test_cli_exports_network_file_to_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from glassnet.cli.main import main
    from glassnet.serialization import save_network

    network = gn.mlp([3, 4, 2], activation="tanh", output="softmax", seed=0, dtype="float64")
    save_network(network, tmp_path / "net.glassnet")
    status = main(["export", str(tmp_path / "net.glassnet"), "--torch", str(tmp_path / "net.pt"),
                   "--onnx", str(tmp_path / "net.onnx")])
    assert status == 0
    state = torch.load(tmp_path / "net.pt", weights_only=True)
    np.testing.assert_array_equal(state["0.weight"].numpy(), network.get_parameters()["dense1.W"].T)
    assert (tmp_path / "net.onnx").exists()


def test_cli_export_without_output_fails(tmp_path, capsys):
    from glassnet.cli.main import main
    from glassnet.serialization import save_network

    save_network(gn.mlp([2, 1], seed=0), tmp_path / "net.glassnet")
    status = main(["export", str(tmp_path / "net.glassnet")])
    assert status == 2
    assert "no output requested; give --onnx OUT.onnx, --torch OUT.pt or both" in capsys.readouterr().err


def test_cli_export_missing_file_fails(tmp_path, capsys):
    from glassnet.cli.main import main

    status = main(["export", str(tmp_path / "missing.glassnet"), "--onnx", str(tmp_path / "x.onnx")])
    assert status == 2
    assert "missing.glassnet" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


def test_export_after_view_renamed_layers():
    network = gn.mlp([3, 4, 4, 2], activation="tanh", seed=0)
    gn.Sequential(network.layers[2:])  # names the shared layers dense1 and dense2 for itself
    X = inputs(3)
    outputs = run_onnx(to_onnx(network), X)
    np.testing.assert_allclose(next(iter(outputs.values())), network.predict(X), rtol=TOLERANCE, atol=TOLERANCE)
