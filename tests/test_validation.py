"""Bad input at every boundary gives a clear glassnet error, never a NumPy traceback or a NaN.

The tables below hold one row per case: a callable, the expected exception
type and a regular expression the message must match. The same kinds of
mistake are tried through the Python API, the scikit-learn estimators (when
installed) and the command line, which must print the message in one line on
stderr and exit with status 2.
"""

import importlib.util
import re
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet.cli.main import main
from glassnet.data import load_csv
from glassnet.errors import GlassnetError, InvalidInputError, InvalidTypeError
from glassnet.model import TrainConfig, train_model
from glassnet.netfile import problem_from_dict
from glassnet.training import fit

NAN = float("nan")
INF = float("inf")
BAD_X = [[1.0, 2.0], [NAN, 0.5], [3.0, INF]]
BAD_Y = [0, 1, 0]
BAD_CSV = "x1,x2,y\n1.0,2.0,0\n,0.5,1\n3.0,inf,0\n"
QUICK = TrainConfig(hidden=(3,), epochs=2, batch_size=2, validation_fraction=0.0)


def small_network(n_in=2, n_out=1, output="identity"):
    return gn.mlp([n_in, 3, n_out], output=output, seed=0, dtype="float64")


def classifier_network():
    return small_network(2, 3, "softmax")


def fit_small(X, t, **options):
    return fit(small_network(), X, t, epochs=1, batch_size=2, **options)


def fit_classes(X, t):
    return fit(classifier_network(), X, t, loss="categorical-cross-entropy", epochs=1)


def train_classes(X, y, config=QUICK, class_names=("a", "b")):
    return train_model(X, y, task="classification", class_names=list(class_names), config=config)


ZEROS = np.zeros((4, 2))
ONES = np.ones((4,))

# (id, callable, exception type, message regex)
API_CASES = [
    # NaN and inf in inputs and targets
    ("fit-nan-X", lambda: fit_small(BAD_X, BAD_Y), InvalidInputError, r"X contains nan at row 1, column 0"),
    ("fit-inf-X", lambda: fit_small([[1.0, 2.0], [3.0, INF]], [0, 1]), InvalidInputError,
     r"X contains inf at row 1, column 1.*finite"),
    ("fit-nan-y", lambda: fit_small(ZEROS, [1.0, NAN, 0.0, 1.0]), InvalidInputError,
     r"targets contain nan at row 1"),
    ("fit-inf-y", lambda: fit_small(ZEROS, [1.0, 1.0, 0.0, -INF]), InvalidInputError,
     r"targets contain -inf at row 3"),
    ("train-model-nan-X", lambda: train_classes(BAD_X, BAD_Y), InvalidInputError,
     r"X_train contains nan at row 1, column 0"),
    ("train-model-nan-regression-target", lambda: train_model(np.ones((3, 2)), [1.0, NAN, 2.0], task="regression",
                                                                config=QUICK),
     InvalidInputError, r"nan.*row 1"),
    ("forward-nan", lambda: small_network().forward([[NAN, 1.0]]), InvalidInputError, r"row 0, column 0"),
    ("predict-nan", lambda: small_network().predict([[NAN, 1.0]]), InvalidInputError, r"row 0, column 0"),
    ("validation-nan", lambda: fit_small(ZEROS, ONES, validation_data=([[1.0, INF]], [1.0])), InvalidInputError,
     r"X_val contains inf at row 0, column 1"),
    # number of dimensions
    ("fit-0d-X", lambda: fit_small(3.0, [1.0]), InvalidInputError, r"X is a single number.*2-D"),
    ("fit-3d-X", lambda: fit_small(np.zeros((2, 2, 2)), [1.0, 1.0]), InvalidInputError,
     r"X has 3 dimensions \(shape \(2, 2, 2\)\).*reshape"),
    ("fit-3d-y", lambda: fit_small(ZEROS, np.zeros((4, 1, 1))), InvalidInputError, r"targets have shape \(4, 1, 1\)"),
    ("fit-0d-y", lambda: fit_classes(np.zeros((1, 2)), 1), InvalidInputError, r"targets have shape \(\)"),
    # shapes and counts
    ("fit-feature-count", lambda: fit_small(np.zeros((2, 3)), [1.0, 1.0]), InvalidInputError,
     r"X has 3 features \(shape \(2, 3\)\).*expects 2"),
    ("predict-feature-count", lambda: small_network().predict(np.zeros((2, 5))), InvalidInputError,
     r"X has 5 features.*expects 2"),
    ("fit-sample-counts", lambda: fit_small(np.zeros((3, 2)), [1.0, 1.0]), InvalidInputError,
     r"X has 3 samples but targets has 2"),
    ("fit-label-counts", lambda: fit_classes(np.zeros((3, 2)), [1, 1]), InvalidInputError,
     r"X has 3 samples but targets has 2"),
    ("train-model-sample-counts", lambda: train_classes(np.zeros((3, 2)), [1, 0]), InvalidInputError,
     r"X_train has 3 samples but y_train has 2"),
    ("fit-zero-samples", lambda: fit_small(np.zeros((0, 2)), np.zeros(0)), InvalidInputError, r"X is empty"),
    ("train-model-zero-samples", lambda: train_classes(np.zeros((0, 2)), []), InvalidInputError,
     r"X_train is empty"),
    ("fit-zero-features", lambda: fit_small(np.zeros((3, 0)), [1.0, 1.0, 1.0]), InvalidInputError,
     r"zero features"),
    ("bias-shape", lambda: gn.Dense(3, 2, b=np.zeros((2, 1))), InvalidInputError, r"b has shape \(2, 1\).*\(2,\)"),
    ("weights-shape", lambda: gn.Dense(3, 2, W=np.zeros((2, 3))), InvalidInputError, r"W has shape \(2, 3\)"),
    ("layer-chain", lambda: gn.Sequential([gn.Dense(2, 3), gn.Dense(4, 1)]), InvalidInputError,
     r"takes 4 inputs.*has 3 outputs"),
    # types
    ("fit-string-X", lambda: fit_small([["a", "b"]], [1.0]), InvalidTypeError, r"X has dtype <U1; expected numbers"),
    ("fit-object-X", lambda: fit_small(np.array([[1.0, "x"]], dtype=object), [1.0]), InvalidTypeError,
     r"X contains non-numeric values"),
    ("fit-string-X-text", lambda: fit_small("1,2", [1.0]), InvalidTypeError, r"X is a string"),
    ("fit-ragged-X", lambda: fit_small([[1.0, 2.0], [3.0]], [1.0, 2.0]), InvalidInputError,
     r"X could not be read as an array.*equal length"),
    ("fit-complex-X", lambda: fit_small(np.ones((2, 2), dtype=complex), [1.0, 1.0]), InvalidTypeError,
     r"dtype complex128; expected numbers"),
    ("fit-string-y", lambda: fit_small(np.zeros((2, 2)), ["a", "b"]), InvalidInputError,
     r"targets have dtype <U1.*Encode labels as numbers"),
    ("fit-none-X", lambda: fit_small(None, [1.0]), InvalidTypeError, r"X is None; expected a 2-D array"),
    ("fit-none-y", lambda: fit_small(ZEROS, None), InvalidTypeError, r"targets are None"),
    ("fit-generator-X", lambda: fit_small((row for row in [[1.0, 2.0]]), [1.0]), InvalidTypeError,
     r"X is a generator; expected a 2-D array"),
    ("fit-dict-X", lambda: fit_small({"a": [1.0]}, [1.0]), InvalidTypeError, r"X is a dict"),
    ("config-hidden-int", lambda: TrainConfig(hidden=5), InvalidTypeError,
     r"hidden=5 is not a sequence of layer widths"),
    ("config-hidden-text", lambda: TrainConfig(hidden="64"), InvalidTypeError, r"hidden='64' is not a sequence"),
    ("set-parameters-nan", lambda: small_network().set_parameters(
        {**small_network().get_parameters(), "dense1.b": [0.0, NAN, 0.0]}), InvalidInputError,
     r"parameter dense1.b contains nan at index \(1,\)"),
    ("set-parameters-text", lambda: small_network().set_parameters(
        {**small_network().get_parameters(), "dense1.W": "abc"}), InvalidTypeError,
     r"parameter dense1.W has dtype <U3"),
    ("sequential-not-list", lambda: gn.Sequential(gn.Dense(2, 2)), InvalidTypeError, r"not a list of layers"),
    ("sequential-not-layer", lambda: gn.Sequential([gn.Dense(2, 2), "relu"]), InvalidTypeError,
     r"layers\[1\] is a str"),
    ("weights-strings", lambda: gn.Dense(2, 2, W=[["a", "b"], ["c", "d"]]), InvalidTypeError, r"W has dtype <U1"),
    ("weights-nan", lambda: gn.Dense(1, 1, W=[[NAN]]), InvalidInputError, r"W contains NaN"),
    # labels of the wrong kind for the loss
    ("bce-target-2", lambda: fit(small_network(output="sigmoid"), ZEROS, [0, 1, 2, 0], loss="bce"),
     InvalidInputError, r"targets in \[0, 1\]; got 2 at row 2, column 0"),
    ("ce-fractional-labels", lambda: fit_classes(np.zeros((2, 2)), [0.5, 1.0]), InvalidInputError,
     r"targets contain 0.5 at row 0.*whole numbers"),
    ("ce-label-range", lambda: fit_classes(np.zeros((2, 2)), [0, 3]), InvalidInputError,
     r"labels range from 0 to 3.*0\.\.2"),
    ("ce-negative-label", lambda: fit_classes(np.zeros((2, 2)), [-1, 0]), InvalidInputError,
     r"labels range from -1"),
    ("ce-onehot-width", lambda: fit_classes(np.zeros((2, 2)), [[0, 1], [1, 0]]), InvalidInputError,
     r"targets have shape \(2, 2\).*\(2, 3\)"),
    ("classification-label-range", lambda: train_classes(np.ones((3, 2)), [1, 0, 5]), InvalidInputError,
     r"y_train contains 5 at row 2; expected a class number 0..1"),
    ("classification-fractional-label", lambda: train_classes(np.ones((3, 2)), [0.0, 1.0, 0.5]), InvalidInputError,
     r"y_train contains 0.5 at row 2"),
    ("classification-text-labels", lambda: train_classes(np.ones((3, 2)), ["a", "b", "a"]), InvalidInputError,
     r"y_train has dtype <U1; expected class numbers"),
    ("classification-2d-labels", lambda: train_classes(np.ones((3, 2)), [[0], [1], [0]]), InvalidInputError,
     r"y_train has shape \(3, 1\); classification expects one class number per row"),
    ("classification-no-names", lambda: train_model(np.ones((3, 2)), [1, 0, 1], task="classification",
                                                     config=QUICK),
     InvalidInputError, r"class_names=None.*at least 2 classes"),
    # hyperparameters
    ("learning-rate-zero", lambda: gn.SGD(learning_rate=0), InvalidInputError,
     r"learning_rate=0 is out of range; expected a finite number > 0"),
    ("learning-rate-negative", lambda: gn.Adam(learning_rate=-0.1), InvalidInputError, r"learning_rate=-0.1"),
    ("learning-rate-nan", lambda: gn.SGD(learning_rate=NAN), InvalidInputError, r"learning_rate=nan is not finite"),
    ("learning-rate-string", lambda: gn.SGD(learning_rate="0.1"), InvalidTypeError,
     r"learning_rate='0.1' \(str\) is not a number"),
    ("momentum-negative", lambda: gn.SGD(momentum=-0.5), InvalidInputError, r"momentum=-0.5.*>= 0 and < 1"),
    ("momentum-one", lambda: gn.SGD(momentum=1.0), InvalidInputError, r"momentum=1 is out of range"),
    ("momentum-nan", lambda: gn.SGD(momentum=NAN), InvalidInputError, r"momentum=nan is not finite"),
    ("batch-size-zero", lambda: fit(small_network(), ZEROS, ONES, batch_size=0), InvalidInputError,
     r"batch_size=0 is too small"),
    ("batch-size-float", lambda: fit(small_network(), ZEROS, ONES, batch_size=2.5), InvalidTypeError,
     r"batch_size=2.5 \(float\) is not an integer"),
    ("epochs-negative", lambda: fit(small_network(), ZEROS, ONES, epochs=-1), InvalidInputError,
     r"epochs=-1 is too small"),
    ("epochs-nan", lambda: fit(small_network(), ZEROS, ONES, epochs=NAN), InvalidTypeError, r"epochs=nan"),
    ("epochs-bool", lambda: fit(small_network(), ZEROS, ONES, epochs=True), InvalidTypeError, r"epochs=True"),
    ("max-seconds-negative", lambda: fit(small_network(), ZEROS, ONES, max_seconds=-1), InvalidInputError,
     r"max_seconds=-1.0 is invalid; expected a finite number > 0"),
    ("gradcheck-eps-negative", lambda: gn.gradcheck(small_network(), ZEROS, ONES, eps=-1e-3), InvalidInputError,
     r"eps=-0.001 is invalid"),
    ("gradcheck-tolerance-nan", lambda: gn.gradcheck(small_network(), ZEROS, ONES, tolerance=NAN),
     InvalidInputError, r"tolerance=nan is invalid"),
    ("layer-size-zero", lambda: gn.mlp([2, 0, 1]), InvalidInputError, r"sizes\[1\]=0 is too small"),
    ("layer-size-float", lambda: gn.mlp([2, 2.5, 1]), InvalidTypeError, r"sizes\[1\]=2.5"),
    ("layer-size-nan", lambda: gn.mlp([2, NAN, 1]), InvalidTypeError, r"sizes\[1\]=nan"),
    ("layer-sizes-short", lambda: gn.mlp([4]), InvalidInputError, r"at least an input and an output width"),
    ("dense-in-features", lambda: gn.Dense(0, 2), InvalidInputError, r"in_features=0"),
    ("dense-out-features-float", lambda: gn.Dense(2, 2.0), InvalidTypeError, r"out_features=2.0"),
    ("config-hidden-zero", lambda: train_classes(np.ones((3, 2)), [1, 0, 1], TrainConfig(hidden=(0,), epochs=1)),
     InvalidInputError, r"sizes\[1\]=0"),
    ("config-learning-rate", lambda: train_classes(np.ones((3, 2)), [1, 0, 1],
                                                   TrainConfig(hidden=(2,), learning_rate=-1.0, epochs=1)),
     InvalidInputError, r"learning_rate=-1"),
    ("dropout-one", lambda: gn.mlp([2, 2, 1], dropout=1.0), InvalidInputError, r"rate=1.0 must be in \[0, 1\)"),
    ("dtype-int", lambda: gn.mlp([2, 2, 1], dtype="int32"), InvalidInputError, r"dtype='int32'.*float32"),
    ("loss-reduction", lambda: gn.get_loss("mse", reduction="avg"), InvalidInputError, r"reduction='avg'"),
    # unknown names list the valid ones
    ("unknown-activation", lambda: gn.mlp([2, 2, 1], activation="relux"), InvalidInputError,
     r"activation='relux' is not known; use one of: identity, leaky_relu, linear, relu, sigmoid, softmax, tanh"),
    ("unknown-output", lambda: gn.mlp([2, 2, 1], output="softplus"), InvalidInputError,
     r"activation='softplus' is not known; use one of: .*sigmoid"),
    ("unknown-loss", lambda: fit(small_network(), ZEROS, ONES, loss="hinge"), InvalidInputError,
     r"loss='hinge' is not known; use one of: .*half-squared-error"),
    ("unknown-optimizer", lambda: fit(small_network(), ZEROS, ONES, optimizer="adamx"), InvalidInputError,
     r"optimizer='adamx' is not known; use one of: adam, adamw, rmsprop, sgd"),
    ("optimizer-wrong-type", lambda: fit(small_network(), ZEROS, ONES, optimizer=3), InvalidTypeError,
     r"optimizer=3 \(int\) is neither a name nor an Optimizer"),
    ("optimizer-unknown-option", lambda: gn.get_optimizer("sgd", lr=0.1), InvalidInputError,
     r"sgd optimizer has no option\(s\) lr; its options are: learning_rate, momentum"),
    ("unknown-init", lambda: gn.mlp([2, 2, 1], init="foo"), InvalidInputError, r"init='foo'.*glorot_uniform"),
    ("unknown-task", lambda: train_model(np.ones((3, 2)), [1, 0, 1], task="clustering"), InvalidInputError,
     r"task='clustering' is not known"),
    ("validation-not-pair", lambda: fit(small_network(), ZEROS, ONES, validation_data=ZEROS), InvalidInputError,
     r"validation_data is a ndarray; expected a pair"),
    # network files
    ("netfile-nan-X", lambda: problem_from_dict(netfile(X=[[NAN, 0.2]])), InvalidInputError,
     r"data.X contains nan at row 0, column 0"),
    ("netfile-feature-count", lambda: problem_from_dict(netfile(X=[[0.1, 0.2, 0.3]])), InvalidInputError,
     r"data.X has shape \(1, 3\); expected \(batch, 2\)"),
    ("netfile-weights-shape", lambda: problem_from_dict(netfile(W=[[0.3, 0.4]])), InvalidInputError,
     r"layers\[0\].W has shape \(1, 2\); expected \(2, 2\)"),
    ("netfile-activation", lambda: problem_from_dict(netfile(activation="relux")), InvalidInputError,
     r"layers\[0\].activation = 'relux' is invalid; expected one of: .*relu"),
    ("netfile-learning-rate", lambda: problem_from_dict(netfile(learning_rate=-1.0)), InvalidInputError,
     r"training.learning_rate = -1.0 is invalid; expected a number > 0"),
    ("netfile-steps", lambda: problem_from_dict(netfile(steps=0)), InvalidInputError, r"steps = 0"),
    ("netfile-targets-nan", lambda: problem_from_dict(netfile(t=[[NAN]])), InvalidInputError,
     r"data.t contains nan at row 0, column 0"),
]


def netfile(X=((0.1, 0.2),), t=((1.0,),), W=((0.3, 0.4), (0.5, 0.6)), activation="relu", learning_rate=0.1,
            steps=1):
    """Return the lesson as a parsed network file, with one field replaced."""
    return {
        "layers": [
            {"type": "dense", "in_features": 2, "out_features": 2, "W": [list(row) for row in W],
             "b": [0.1, 0.2], "activation": activation},
            {"type": "dense", "in_features": 2, "out_features": 1, "W": [[0.7], [0.8]], "b": [0.3],
             "activation": "sigmoid"},
        ],
        "data": {"X": [list(row) for row in X], "t": [list(row) for row in t]},
        "training": {"loss": "half-squared-error", "learning_rate": learning_rate, "steps": steps},
    }


@pytest.mark.parametrize("case", API_CASES, ids=[case[0] for case in API_CASES])
def test_api_rejects_bad_input(case):
    _, function, error_type, pattern = case
    with pytest.raises(error_type) as caught:
        function()
    assert isinstance(caught.value, GlassnetError)
    assert re.search(pattern, str(caught.value)), str(caught.value)


def test_api_table_has_many_cases():
    assert len(API_CASES) >= 40


# ---------------------------------------------------------------- specific cases


def test_fit_nan_raises_before_update():
    network = small_network()
    before = network.get_parameters()
    with pytest.raises(InvalidInputError, match=r"row 1, column 0"):
        fit(network, BAD_X, BAD_Y, epochs=1)
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, before[name])


def test_csv_nan_names_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    with pytest.raises(InvalidInputError, match=r"'x1'.*row 1"):
        load_csv(path, target="y")


def test_csv_inf_names_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,y\n1.0,2.0,0\n2.0,0.5,1\n3.0,inf,0\n")
    with pytest.raises(InvalidInputError, match=r"'x2'.*row 2"):
        load_csv(path, target="y")


def test_csv_regression_target_nan(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x1,y\n1.0,0.5\n2.0,nan\n3.0,1.5\n")
    with pytest.raises(InvalidInputError, match=r"'y'.*row 1"):
        load_csv(path, target="y", task="regression")


def test_csv_header_only_empty(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("x1,x2,y\n")
    with pytest.raises(InvalidInputError, match=r"empty"):
        load_csv(path, target="y")


def test_fit_empty_before_computation(monkeypatch):
    network = small_network()

    def fail(*args, **kwargs):
        raise AssertionError("no computation may run on an empty input")

    monkeypatch.setattr(network, "loss_and_backward", fail)
    with pytest.raises(InvalidInputError, match=r"empty"):
        fit(network, np.zeros((0, 2)), np.zeros((0, 1)))


def test_integer_inputs_converted():
    network = small_network()
    X = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.int64)
    t = np.array([1, 0, 1], dtype=np.int32)
    fit(network, X, t, epochs=3, batch_size=2, optimizer=gn.SGD(learning_rate=0.01, momentum=0.9))
    for _, value in network.parameters():
        assert value.dtype == np.float64
        assert np.isfinite(value).all()
    assert X.dtype == np.int64
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])


def test_integer_parameters_converted():
    layer = gn.Dense(2, 1, W=np.array([[1], [2]], dtype=np.int64), b=np.array([0], dtype=np.int8))
    network = gn.Sequential([layer], dtype="float32")
    network.step(np.array([[1, 1]]), np.array([[0]]), optimizer=gn.SGD(learning_rate=0.5))
    assert layer.params["W"].dtype == np.float32
    # y = 3, dL/dy = 3, dW = [[3], [3]], W = [[1], [2]] - 0.5 · 3 = [[-0.5], [0.5]]
    np.testing.assert_allclose(layer.params["W"], [[-0.5], [0.5]])


def test_model_predict_nan_raises():
    model = train_classes(np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]), [0, 1, 0, 1])
    with pytest.raises(InvalidInputError, match=r"row 0, column 0"):
        model.predict([[NAN, 1.0]])
    with pytest.raises(InvalidInputError, match=r"row 0, column 0"):
        model.predict_proba([[NAN, 1.0]])


@pytest.mark.parametrize("class_names", [("a", "b"), ("a", "b", "c")])
def test_model_predict_empty_shapes(class_names):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    model = train_classes(X, [0, 1, 0, len(class_names) - 1], class_names=class_names)
    assert model.predict(np.zeros((0, 2))).shape == (0,)
    assert model.predict_proba(np.zeros((0, 2))).shape == (0, len(class_names))


def test_sparse_input_rejected():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(InvalidTypeError, match=r"X is a sparse csr_matrix.*X.toarray\(\)"):
        small_network().predict(sparse.csr_matrix(np.ones((2, 2))))


def test_dataframe_nan_names_column():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"x1": [1.0, NAN, 3.0], "x2": [2.0, 0.5, INF]})
    with pytest.raises(InvalidInputError, match=r"X contains nan at row 1, column 0 \('x1'\)"):
        fit_small(frame, BAD_Y)


def test_dataframe_text_names_cell():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"size": [1.0, 2.0], "colour": ["red", 3.0]})
    with pytest.raises(InvalidTypeError, match=r"at row 0, column 1 \('colour'\): 'red'"):
        fit_small(frame, [0.0, 1.0])


def test_set_parameters_nan_keeps_values():
    network = small_network()
    before = network.get_parameters()
    with pytest.raises(InvalidInputError):
        network.set_parameters({**before, "dense2.W": np.full((3, 1), np.inf)})
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, before[name])


def test_regression_predict_empty_shape():
    model = train_model(np.array([[0.0], [1.0], [2.0]]), [0.0, 1.0, 2.0], task="regression", config=QUICK)
    assert model.predict(np.zeros((0, 1))).shape == (0,)


# ---------------------------------------------------------------- estimators

HAVE_ESTIMATORS = importlib.util.find_spec("glassnet.sklearn") is not None and \
    importlib.util.find_spec("sklearn") is not None


def estimator(kind="classifier", **options):
    from glassnet import sklearn as estimators

    options = {"hidden_layer_sizes": (3,), "max_iter": 2, "random_state": 0, **options}
    if kind == "classifier":
        return estimators.GlassClassifier(**options)
    return estimators.GlassRegressor(**options)


def fitted_classifier(n_classes=2):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.2, 0.1], [0.9, 0.3]])
    y = np.arange(6) % n_classes
    return estimator().fit(X, y)


ESTIMATOR_CASES = [
    ("nan-X", lambda: estimator().fit(BAD_X, BAD_Y), InvalidInputError, r"X contains nan at row 1, column 0"),
    ("inf-X", lambda: estimator("regressor").fit([[1.0, 2.0], [3.0, INF]], [0.0, 1.0]), InvalidInputError,
     r"X contains inf at row 1, column 1"),
    ("regression-nan-y", lambda: estimator("regressor").fit(np.ones((3, 2)), [1.0, NAN, 2.0]), InvalidInputError,
     r"y contains nan at row 1"),
    ("0d-X", lambda: estimator().fit(3.0, [1]), ValueError, r"(?i)2D|2-D|dimension"),
    ("3d-X", lambda: estimator().fit(np.zeros((2, 2, 2)), [0, 1]), ValueError, r"(?i)dim"),
    ("sample-counts", lambda: estimator().fit(np.zeros((3, 2)), [0, 1]), ValueError, r"3.*2|2.*3"),
    ("zero-samples", lambda: estimator().fit(np.zeros((0, 2)), []), ValueError, r"(?i)0 sample|empty"),
    ("zero-features", lambda: estimator().fit(np.zeros((3, 0)), [0, 1, 0]), ValueError, r"(?i)0 feature|feature"),
    ("string-X", lambda: estimator().fit([["a", "b"], ["c", "d"]], [0, 1]), ValueError, r"(?i)string|float|number"),
    ("feature-count", lambda: fitted_classifier().predict(np.zeros((2, 5))), ValueError, r"5.*2|2.*5"),
    ("predict-nan", lambda: fitted_classifier().predict([[NAN, 1.0]]), InvalidInputError,
     r"X contains nan at row 0, column 0"),
    ("predict-proba-inf", lambda: fitted_classifier().predict_proba([[1.0, 1.0], [1.0, -INF]]), InvalidInputError,
     r"X contains -inf at row 1, column 1"),
    ("learning-rate", lambda: estimator(learning_rate=-1.0).fit(np.ones((2, 2)), [0, 1]), ValueError,
     r"learning_rate"),
    ("batch-size", lambda: estimator(batch_size=0).fit(np.ones((2, 2)), [0, 1]), ValueError, r"batch_size"),
    ("max-iter", lambda: estimator(max_iter=0).fit(np.ones((2, 2)), [0, 1]), ValueError, r"max_iter"),
    ("layer-size", lambda: estimator(hidden_layer_sizes=(0,)).fit(np.ones((2, 2)), [0, 1]), ValueError,
     r"hidden_layer_sizes"),
    ("activation", lambda: estimator(activation="relux").fit(np.ones((2, 2)), [0, 1]), ValueError,
     r"relux.*relu"),
    ("optimizer", lambda: estimator(optimizer="adamx").fit(np.ones((2, 2)), [0, 1]), ValueError, r"adamx.*sgd"),
    ("not-fitted", lambda: estimator().predict(np.ones((2, 2))), ValueError, r"(?i)not fitted"),
]


@pytest.mark.skipif(not HAVE_ESTIMATORS, reason="glassnet.sklearn is not available")
@pytest.mark.parametrize("case", ESTIMATOR_CASES, ids=[case[0] for case in ESTIMATOR_CASES])
def test_estimator_rejects_bad_input(case):
    _, function, error_type, pattern = case
    with pytest.raises(error_type) as caught:
        function()
    assert re.search(pattern, str(caught.value)), str(caught.value)


@pytest.mark.skipif(not HAVE_ESTIMATORS, reason="glassnet.sklearn is not available")
def test_estimator_stays_unfitted_after_nan():
    from sklearn.exceptions import NotFittedError as SklearnNotFitted
    from sklearn.utils.validation import check_is_fitted

    model = estimator()
    with pytest.raises(ValueError):
        model.fit(BAD_X, BAD_Y)
    with pytest.raises(SklearnNotFitted):
        check_is_fitted(model)


@pytest.mark.skipif(not HAVE_ESTIMATORS, reason="glassnet.sklearn is not available")
@pytest.mark.parametrize("n_classes", [2, 3])
def test_estimator_predict_empty_shapes(n_classes):
    model = fitted_classifier(n_classes)
    assert model.predict(np.zeros((0, 2))).shape == (0,)
    assert model.predict_proba(np.zeros((0, 2))).shape == (0, n_classes)


@pytest.mark.skipif(not HAVE_ESTIMATORS, reason="glassnet.sklearn is not available")
def test_regressor_predict_empty_shape():
    model = estimator("regressor").fit(np.array([[0.0], [1.0], [2.0]]), [0.0, 1.0, 2.0])
    assert model.predict(np.zeros((0, 1))).shape == (0,)
    with pytest.raises(ValueError, match=r"feature"):
        model.predict(np.zeros((0, 3)))


@pytest.mark.skipif(not HAVE_ESTIMATORS, reason="glassnet.sklearn is not available")
def test_estimator_dataframe_names_column():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"x1": [1.0, NAN, 3.0], "x2": [2.0, 0.5, INF]})
    with pytest.raises(InvalidInputError, match=r"X contains nan at row 1, column 0 \('x1'\)"):
        estimator().fit(frame, BAD_Y)



# ---------------------------------------------------------------- command line


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


CLI_CASES = [
    ("csv-nan", lambda p: ["train", "--data", write(p, "bad.csv", BAD_CSV), "--target", "y"], r"'x1'.*row 1"),
    ("csv-header-only", lambda p: ["train", "--data", write(p, "h.csv", "x1,x2,y\n"), "--target", "y"], r"empty"),
    ("csv-regression-nan", lambda p: ["train", "--data", write(p, "r.csv", "x1,y\n1,0.5\n2,\n3,1.5\n"),
                                      "--task", "regression"], r"'y'.*row 1"),
    ("csv-missing-file", lambda p: ["train", "--data", str(p / "missing.csv")], r"not found"),
    ("csv-unknown-target", lambda p: ["train", "--data", write(p, "ok.csv", "a,b\n1,0\n2,1\n"), "--target", "z"],
     r"target='z'.*columns are"),
    ("learning-rate-negative", lambda p: ["train", "--dataset", "xor", "--learning-rate", "-1"],
     r"learning_rate=-1 is out of range"),
    ("learning-rate-nan", lambda p: ["train", "--dataset", "xor", "--learning-rate", "nan"], r"learning_rate=nan"),
    ("learning-rate-text", lambda p: ["train", "--dataset", "xor", "--learning-rate", "fast"],
     r"--learning-rate: invalid float value: 'fast'"),
    ("batch-size-zero", lambda p: ["train", "--dataset", "xor", "--batch-size", "0"], r"batch_size=0"),
    ("epochs-zero", lambda p: ["train", "--dataset", "xor", "--epochs", "0"], r"epochs=0"),
    ("momentum-one", lambda p: ["train", "--dataset", "xor", "--optimizer", "sgd", "--momentum", "1"], r"momentum=1"),
    ("hidden-zero", lambda p: ["train", "--dataset", "xor", "--hidden", "0"], r"--hidden"),
    ("unknown-dataset", lambda p: ["train", "--dataset", "irisx"], r"irisx.*iris"),
    ("unknown-optimizer", lambda p: ["train", "--dataset", "xor", "--optimizer", "adamx"],
     r"invalid choice: 'adamx'"),
    ("unknown-command", lambda p: ["trian"], r"invalid choice: 'trian'"),
    ("gradcheck-layers", lambda p: ["gradcheck", "--layers", "4,0,3"], r"sizes\[1\]=0"),
    ("gradcheck-activation", lambda p: ["gradcheck", "--layers", "4,3,2", "--activation", "relux"],
     r"activation='relux' is not known"),
    ("gradcheck-eps-nan", lambda p: ["gradcheck", "--eps", "nan"], r"eps=nan is invalid"),
    ("train-max-seconds", lambda p: ["train", "--dataset", "xor", "--max-seconds", "-1"], r"max_seconds=-1.0"),
    ("demo-learning-rate", lambda p: ["demo", "--learning-rate", "0"], r"learning_rate = 0.0 is invalid"),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[case[0] for case in CLI_CASES])
def test_cli_rejects_bad_input(case, tmp_path, capsys):
    _, make_argv, pattern = case
    try:
        status = main(make_argv(tmp_path))
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    assert re.search(pattern, lines[0]), lines[0]


def test_all_finite_huge_values_do_not_warn():
    from glassnet.validation import all_finite

    values = np.full(100, 1e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all_finite(values)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [2, 100], ids=["few", "many"])
@pytest.mark.parametrize(("bad", "expected"), [(None, True), (np.inf, False), (-np.inf, False), (np.nan, False)])
def test_all_finite_when_the_sum_overflows(dtype, size, bad, expected):
    from glassnet.validation import all_finite

    # Every two elements overflow the sum, so the check must look at the elements.
    values = np.full(size, np.finfo(dtype).max, dtype=dtype)
    if bad is not None:
        values[-1] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all_finite(values) is expected
