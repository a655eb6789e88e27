import copy
import pickle
import warnings

import numpy as np
import pytest

import glassnet as gn
from conftest import LESSON_T, LESSON_X, DoubledLoss, MixLayer, lesson_network
from glassnet.training import fit


def sigmoid_network():
    rng = np.random.default_rng(0)
    return gn.Sequential([gn.Dense(2, 3, W=rng.normal(size=(2, 3))), gn.Sigmoid(),
                          gn.Dense(3, 3, W=rng.normal(size=(3, 3))), gn.Sigmoid()])


def test_one_dimensional_input_is_one_sample():
    output = sigmoid_network().forward(np.array([1.0, 1.0]))
    assert output.shape == (1, 3)


@pytest.mark.parametrize("X", [np.float64(1.0), np.ones((2, 2, 2))], ids=["0-d", "3-d"])
def test_wrong_number_of_dimensions_rejected(X):
    with pytest.raises(ValueError, match="expected a 2-D array|expected 2"):
        sigmoid_network().forward(X)


def test_feature_count_mismatch_rejected():
    with pytest.raises(ValueError, match="expects 2"):
        sigmoid_network().forward(np.ones((4, 3)))


def test_nan_input_names_row_and_column():
    with pytest.raises(ValueError, match="row 1, column 0"):
        sigmoid_network().forward(np.array([[1.0, 2.0], [np.nan, 0.5]]))


def test_string_input_rejected():
    with pytest.raises(TypeError, match="dtype"):
        sigmoid_network().forward(np.array([["a", "b"]]))


def test_integer_input_converted():
    network = sigmoid_network()
    np.testing.assert_allclose(network.forward(np.array([[1, 2]])), network.forward(np.array([[1.0, 2.0]])))


def test_parameter_names():
    network = lesson_network()
    names = [name for name, _ in network.parameters()]
    assert names == ["dense1.W", "dense1.b", "dense2.W", "dense2.b"]
    assert network.layers[0].params["W"].shape == (2, 2)
    assert [name for name, _ in network.gradients()] == names


def test_backward_twice_gives_same_gradients():
    network = lesson_network()
    loss = gn.HalfSquaredError()
    network.loss_and_backward(LESSON_X, LESSON_T, loss)
    first = {name: grad.copy() for name, grad in network.gradients()}
    network.loss_and_backward(LESSON_X, LESSON_T, loss)
    for name, grad in network.gradients():
        np.testing.assert_array_equal(grad, first[name])


def test_float32_network_keeps_dtype():
    network = lesson_network(dtype="float32")
    network.step(LESSON_X, LESSON_T)
    for _, value in network.parameters():
        assert value.dtype == np.float32
    assert network.forward(LESSON_X).dtype == np.float32


def test_network_must_start_with_dense():
    with pytest.raises(ValueError, match="must start with a Dense layer"):
        gn.Sequential([gn.ReLU(), gn.Dense(2, 2)])


def test_mismatched_dense_sizes_rejected():
    with pytest.raises(ValueError, match="takes 3 inputs"):
        gn.Sequential([gn.Dense(2, 2), gn.ReLU(), gn.Dense(3, 1)])


def test_activation_after_activation_rejected():
    with pytest.raises(ValueError, match="must directly follow a Dense layer"):
        gn.Sequential([gn.Dense(2, 2), gn.ReLU(), gn.Sigmoid()])


def test_copy_is_independent():
    network = lesson_network()
    clone = network.copy()
    clone.step(LESSON_X, LESSON_T)
    np.testing.assert_array_equal(network.layers[0].params["W"], [[0.3, 0.4], [0.5, 0.6]])


def test_set_parameters_rejects_wrong_shape():
    network = lesson_network()
    values = network.get_parameters()
    values["dense1.W"] = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"dense1.W has shape \(3, 2\)"):
        network.set_parameters(values)


def test_deep_network_symbols():
    network = gn.mlp([3, 4, 4, 2], activation="tanh", output="softmax", seed=0, dtype="float64")
    trace = network.step(np.ones((2, 3)), np.array([0, 1]), "categorical-cross-entropy", trace=True)
    for symbol in ["z1", "a1", "z2", "a2", "z3", "y", "delta3", "dW3", "dL/da2", "tanh'(z2)", "delta2",
                   "dL/da1", "delta1", "dW1", "db1"]:
        assert symbol in trace, symbol
    assert trace["delta3"].operation == "fused_delta"
    assert "N = 2" in trace["delta3"].note


def test_linear_output_network_trace():
    network = gn.Sequential([gn.Dense(2, 2), gn.Tanh(), gn.Dense(2, 1)])
    trace = network.step(np.ones((3, 2)), np.zeros((3, 1)), "mean-squared-error", trace=True)
    assert trace["y"].formula == "a1 · W2 + b2"
    assert trace["delta2"].formula == "2 (y - t) / N"
    np.testing.assert_allclose(trace.value("delta2"), 2 * trace.value("y") / 3)


def test_mlp_builder_reproducible():
    first = gn.mlp([4, 8, 3], seed=3)
    second = gn.mlp([4, 8, 3], seed=3)
    for (_, a), (_, b) in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(a, b)
    assert first.dtype == np.float32


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parameters_and_gradients_share_flat_buffers(dtype):
    network = gn.mlp([3, 4, 4, 2], seed=0, dtype=dtype)
    slots = network.slots()
    assert slots.flat is not None
    used = np.zeros(slots.flat.params.size, dtype=bool)
    for (name, _, param, grad), (layout_name, start, stop) in zip(slots, slots.flat.layout):
        assert name == layout_name
        assert np.shares_memory(param, slots.flat.params[start:stop])
        assert np.shares_memory(grad, slots.flat.grads[start:stop])
        # Every parameter and gradient starts on a 64-byte cache line.
        assert param.ctypes.data % 64 == 0
        assert grad.ctypes.data % 64 == 0
        used[start:stop] = True
    assert used.sum() == network.n_parameters
    # The padding between parameters is zero and stays zero through training.
    network.step(np.ones((2, 3)), np.ones((2, 2)), optimizer=gn.SGD(learning_rate=0.5))
    assert not slots.flat.params[~used].any()
    assert not slots.flat.grads[~used].any()


def test_work_arrays_and_optimizer_buffers_are_aligned():
    network = gn.mlp([3, 5, 2], seed=0, dtype="float32")
    optimizer = gn.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    fit(network, np.ones((7, 3), dtype=np.float32), np.ones((7, 2), dtype=np.float32),
        loss="mse", optimizer=optimizer, epochs=1, batch_size=4)
    plan = network._work_arrays(4, network._current_slots())
    # The work arrays, parameters and gradients that the plan's functions hold.
    closure_values = [cell.cell_contents for function in plan.forward + plan.backward for cell in function.__closure__]
    arrays = [value for value in closure_values if isinstance(value, np.ndarray) and value.ndim == 2]
    arrays += [plan.delta, *optimizer._changes.values(), *optimizer._scratch.values()]
    arrays += [value for state in optimizer.state.values() for value in state.values()]
    assert len(arrays) > 10
    assert all(array.ctypes.data % 64 == 0 for array in arrays)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_flat_update_equals_update_per_parameter(dtype):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 3))
    T = rng.standard_normal((5, 2))
    flat = gn.mlp([3, 4, 4, 2], output="identity", seed=0, dtype=dtype)
    each = flat.copy()
    for _ in range(3):
        flat.step(X, T, "mse", gn.SGD(learning_rate=0.1))
        each.loss_and_backward(each.prepare_input(X), T.astype(dtype), gn.get_loss("mse"))
        gn.SGD(learning_rate=0.1).step(list(each.slots()))  # a plain list: one update per parameter
    for name, value in flat.get_parameters().items():
        np.testing.assert_array_equal(value, each.get_parameters()[name])


def test_replaced_parameter_array_is_trained():
    network = gn.Sequential([gn.Dense(1, 1, W=[[0.0]], b=[0.0])])
    assert network.slots().flat is not None
    network.step([[1.0]], [[1.0]], "half-squared-error", gn.SGD(learning_rate=0.5))
    replacement = np.array([[2.0]])
    network.layers[0].params["W"] = replacement
    assert network.slots().flat is None
    # y = 2 + 0.5 = 2.5, dL/dW = (y - t) x = 1.5, so W becomes 2 - 0.5 · 1.5.
    network.step([[1.0]], [[1.0]], "half-squared-error", gn.SGD(learning_rate=0.5))
    assert network.layers[0].params["W"] is replacement
    assert replacement[0, 0] == 1.25


@pytest.mark.parametrize("duplicate", ["deepcopy", "pickle"])
def test_copied_network_trains_its_own_parameters(duplicate):
    import copy
    import pickle

    original = gn.mlp([2, 3, 1], seed=0)
    before = original.get_parameters()
    clone = copy.deepcopy(original) if duplicate == "deepcopy" else pickle.loads(pickle.dumps(original))
    assert clone.slots().flat is not None
    clone.step([[1.0, 2.0]], [[1.0]], "half-squared-error", gn.SGD(learning_rate=0.5))
    changed = clone.get_parameters()
    assert not np.array_equal(changed["dense1.W"], before["dense1.W"])
    for name, value in original.get_parameters().items():
        np.testing.assert_array_equal(value, before[name])
    for (_, _, param, _), (_, start, stop) in zip(clone.slots(), clone.slots().flat.layout):
        assert np.shares_memory(param, clone.slots().flat.params[start:stop])


def sgd_per_parameter(network, X, T):
    """Take one SGD step through a plain list of slots: one update per parameter array."""
    network.loss_and_backward(network.prepare_input(X), np.asarray(T, dtype=network.dtype), gn.get_loss("mse"))
    gn.SGD(learning_rate=0.1).step(list(network.slots()))


@pytest.mark.parametrize("rewire", ["transpose", "tie"])
def test_other_views_of_the_flat_buffer_train_correctly(rewire):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 3))
    T = rng.standard_normal((4, 3))
    network = gn.mlp([3, 3, 3], activation="tanh", seed=1, dtype="float64")
    if rewire == "transpose":
        network.layers[0].params["W"] = network.layers[0].params["W"].T
    else:
        network.layers[2].params["W"] = network.layers[0].params["W"]
    expected = copy.deepcopy(network)
    if rewire == "tie":
        expected.layers[2].params["W"] = expected.layers[0].params["W"]
    else:
        expected.layers[0].params["W"] = np.array(expected.layers[0].params["W"])
    assert network.slots().flat is None
    network.step(X, T, "mse", gn.SGD(learning_rate=0.1))
    sgd_per_parameter(expected, X, T)
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, expected.get_parameters()[name])


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_network_pickles_with_every_protocol(protocol):
    network = gn.mlp([2, 3, 1], seed=0)
    restored = pickle.loads(pickle.dumps(network, protocol=protocol))
    np.testing.assert_array_equal(restored.predict([[1.0, 2.0]]), network.predict([[1.0, 2.0]]))
    assert restored.slots().flat is not None


def test_relu_overwrites_input_when_planned():
    network = gn.mlp([3, 6, 2], activation="relu", output="identity", seed=4, dtype="float64")
    allocating = network.copy()
    X = np.random.default_rng(5).standard_normal((8, 3))
    T = np.zeros((8, 2))
    expected_z = X @ network.layers[0].params["W"] + network.layers[0].params["b"]
    assert (expected_z < 0).any()  # some units are cut by the ReLU
    trace = network.step(X, T, "mse", gn.SGD(learning_rate=0.1), trace=True)
    relu = network.layers[1]
    assert relu.z is relu.a
    np.testing.assert_array_equal(relu.a, np.maximum(expected_z, 0.0))
    # The trace copied z before the ReLU wrote over it.
    np.testing.assert_array_equal(trace.value("z1"), expected_z)
    # The mask, and so every gradient, equals that of the allocating pass.
    loss = gn.get_loss("mse")
    y = allocating.forward(X)
    allocating.backward(loss.gradient(y, T))
    for (name, grad), (_, planned) in zip(allocating.gradients(), network.gradients()):
        np.testing.assert_array_equal(grad, planned, err_msg=name)


@pytest.mark.parametrize("X", [np.ones((2, 4)), np.ones(3), np.ones((2, 3, 1))], ids=["wide", "1-D", "3-D"])
def test_loss_and_backward_rejects_bad_input_shape(X):
    network = gn.mlp([3, 4, 2], activation="relu", seed=0)
    loss = gn.losses.get_loss("half-squared-error")
    with pytest.raises(gn.InvalidInputError, match=r"dense1 input has shape .*; expected \(batch, 3\)"):
        network.loss_and_backward(X, np.zeros((2, 2)), loss)


def test_loss_and_backward_casts_input_dtype():
    X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    t = np.zeros((5, 2))
    loss = gn.losses.get_loss("half-squared-error")
    network = gn.mlp([3, 4, 2], activation="relu", seed=0, dtype="float64")
    expected = network.loss_and_backward(X.astype(np.float64), t, loss)
    expected_grads = {name: grad.copy() for name, grad in network.gradients()}

    value = network.loss_and_backward(X, t, loss)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    for name, grad in network.gradients():
        np.testing.assert_allclose(grad, expected_grads[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_relu_subclass_keeps_its_own_z():
    class ShiftedReLU(gn.ReLU):
        """A ReLU whose backward reads z itself, as a subclass may."""

    network = gn.Sequential([gn.Dense(3, 4), ShiftedReLU(), gn.Dense(4, 1)], dtype="float64")
    X = np.random.default_rng(1).standard_normal((6, 3))
    network.step(X, np.zeros((6, 1)), "mse", gn.SGD(learning_rate=0.1))
    layer = network.layers[1]
    assert layer.z is not layer.a
    np.testing.assert_array_equal(layer.a, np.maximum(layer.z, 0.0))


class _SteepSigmoid(gn.Sigmoid):
    """A sigmoid of 2z, as a subclass may override forward and backward."""

    def forward(self, z, out=None):
        return super().forward(2.0 * z, out)

    def backward(self, grad_output, out=None):
        return 2.0 * super().backward(grad_output, out)


@pytest.mark.parametrize("activation", [gn.Sigmoid, gn.ReLU, gn.Tanh, _SteepSigmoid])
def test_planned_pass_matches_general(activation):
    network = gn.Sequential([gn.Dense(3, 4, seed=0), activation(), gn.Dense(4, 2, seed=1)], dtype="float64")
    X = np.random.default_rng(2).standard_normal((5, 3))
    t = np.random.default_rng(3).standard_normal((5, 2))
    loss = gn.get_loss("mse")
    (planned_value, planned), (general_value, general) = planned_and_general(network, X, t, loss)
    assert planned_value == general_value
    for name, grad in general.items():
        np.testing.assert_array_equal(planned[name], grad, err_msg=name)
    if activation is _SteepSigmoid:
        dense = network.layers[0]
        z = X @ dense.params["W"] + dense.params["b"]
        np.testing.assert_allclose(network.layers[1].a, 1.0 / (1.0 + np.exp(-2.0 * z)), rtol=1e-14)


@pytest.mark.parametrize("rows", [1, 3, 400], ids=["one row", "few rows", "many rows"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_planned_sigmoid_saturates_quietly(rows, dtype):
    # z = ±1000 overflows exp(-z) in both dtypes; the sigmoid is then exactly 0 or 1.
    network = gn.Sequential([gn.Dense(1, 1, W=[[1.0]], b=[0.0]), gn.Sigmoid()], dtype=dtype)
    X = np.resize(np.array([[-1000.0], [0.0], [1000.0]], dtype=dtype), (rows, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = network.step(X, np.full((rows, 1), 0.5, dtype=dtype), "half-squared-error",
                             gn.SGD(learning_rate=0.1), trace=True)
    expected = np.resize(np.array([[0.0], [0.5], [1.0]]), (rows, 1))
    np.testing.assert_array_equal(trace.value("y"), expected.astype(dtype))


def test_custom_loss_gradient_dtype_is_converted():
    class WideGradient(gn.losses.HalfSquaredError):
        """Returns its gradient in float64 whatever the network's dtype."""

        def value_and_gradient(self, y, t):
            value, grad = super().value_and_gradient(y, t)
            return value, grad.astype(np.float64)

    X = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    t = np.zeros((5, 2), dtype=np.float32)
    network = gn.mlp([3, 4, 2], activation="tanh", seed=0, dtype="float32")
    other = network.copy()
    network.loss_and_backward(X, t, gn.get_loss("half-squared-error"))
    other.loss_and_backward(X, t, WideGradient())
    for (name, expected), (_, grad) in zip(network.gradients(), other.gradients()):
        assert grad.dtype == np.float32
        np.testing.assert_array_equal(grad, expected, err_msg=name)


class _GeneralPassArray(np.ndarray):
    """An ndarray subclass, which loss_and_backward sends to the general pass."""


def planned_and_general(network, X, t, loss):
    """Return (value, gradients) of the planned pass and of the general pass on one batch."""
    planned_value = network.loss_and_backward(X, t, loss)
    planned = {name: grad.copy() for name, grad in network.gradients()}
    general_value = network.loss_and_backward(X.view(_GeneralPassArray), t, loss)
    general = {name: grad.copy() for name, grad in network.gradients()}
    return (planned_value, planned), (general_value, general)


class _DoubledDense(gn.Dense):
    """A Dense layer whose forward and backward scale by 2, as a subclass may override them."""

    def forward(self, x, out=None):
        z = super().forward(x, out)
        z *= 2.0
        return z

    def backward(self, grad_output, out=None):
        return super().backward(grad_output * 2.0, out)


def test_dense_subclass_methods_run_in_planned_pass():
    network = gn.Sequential([_DoubledDense(3, 4, seed=1), gn.ReLU(), gn.Dense(4, 2, seed=2)], dtype="float64")
    X = np.random.default_rng(3).standard_normal((6, 3))
    t = np.zeros((6, 2))
    loss = gn.get_loss("half-squared-error")
    # The general pass calls every layer's forward and backward.
    (planned_value, planned), (general_value, general) = planned_and_general(network, X, t, loss)
    assert planned_value == pytest.approx(loss.value(network.forward(X), t), rel=1e-12)
    assert planned_value == pytest.approx(general_value, rel=1e-12)
    for name, grad in general.items():
        np.testing.assert_allclose(planned[name], grad, rtol=1e-12, err_msg=name)


def test_relu_after_dense_subclass_keeps_its_own_z():
    network = gn.Sequential([_DoubledDense(3, 4, seed=1), gn.ReLU(), gn.Dense(4, 2, seed=2)], dtype="float64")
    X = np.random.default_rng(3).standard_normal((6, 3))
    network.loss_and_backward(X, np.zeros((6, 2)), gn.get_loss("half-squared-error"))
    layer = network.layers[1]
    assert layer.z is not layer.a


class _ListGradient(gn.losses.Loss):
    """Half squared error, whose gradient is returned as a nested list."""

    name = "list-gradient"

    def value(self, y, t):
        return 0.5 * float(np.sum((y - t) ** 2)) / y.shape[0]

    def gradient(self, y, t):
        return ((y - t) / y.shape[0]).tolist()


class _ReadOnlyGradient(_ListGradient):
    """Half squared error, whose gradient is returned as a read-only array."""

    def gradient(self, y, t):
        grad = (y - t) / y.shape[0]
        grad.flags.writeable = False
        return grad


class _IntegerGradient(_ListGradient):
    """A loss whose gradient is the sign of y - t, as integers."""

    def gradient(self, y, t):
        return np.sign(y - t).astype(np.int64)


@pytest.mark.parametrize("loss", [_ListGradient(), _ReadOnlyGradient(), _IntegerGradient()],
                         ids=["list", "read-only", "integer"])
@pytest.mark.parametrize("output", ["identity", "sigmoid"])
def test_custom_loss_gradient_of_any_array_kind(loss, output):
    X = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)
    t = np.full((5, 2), 0.25, dtype=np.float32)
    network = gn.mlp([3, 4, 2], activation="tanh", output=output, seed=0, dtype="float32")
    (_, planned), (_, general) = planned_and_general(network, X, t, loss)
    for name, grad in general.items():
        assert planned[name].dtype == np.float32
        np.testing.assert_allclose(planned[name], grad, rtol=1e-6, atol=1e-7, err_msg=name)


class _FlatGradient(_ListGradient):
    """Half squared error, whose gradient has shape (batch,) for outputs of shape (batch, 1)."""

    def gradient(self, y, t):
        return ((y - t) / y.shape[0]).ravel()


@pytest.mark.parametrize("general", [False, True], ids=["planned", "general"])
def test_custom_loss_gradient_shape_checked(general):
    X = np.random.default_rng(5).standard_normal((5, 3))
    network = gn.mlp([3, 4, 1], activation="tanh", output="sigmoid", seed=0, dtype="float64")
    with pytest.raises(gn.InvalidInputError, match=r"shape \(5,\).*\(5, 1\)"):
        network.loss_and_backward(X.view(_GeneralPassArray) if general else X, np.zeros((5, 1)), _FlatGradient())


class _OutputAsGradient(_ListGradient):
    """``L = ½ Σ y²``, whose gradient is the output array itself."""

    def value(self, y, t):
        return 0.5 * float(np.vdot(y, y))

    def gradient(self, y, t):
        return y


def test_loss_returning_output_keeps_output_cache():
    X = np.random.default_rng(6).standard_normal((6, 3))
    network = gn.mlp([3, 4, 2], activation="tanh", output="sigmoid", seed=0, dtype="float64")
    network.loss_and_backward(X, np.zeros((6, 2)), _OutputAsGradient())
    cached = network.layers[-1].a
    np.testing.assert_allclose(cached, network.forward(X), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_planned_pass_converts_raw_targets(dtype):
    # Targets that skipped prepare_targets promote a built-in loss's gradient, y - t, to float64.
    X = np.random.default_rng(6).standard_normal((5, 3)).astype(np.float32)
    t = np.random.default_rng(7).integers(-1, 2, size=(5, 2)).astype(dtype)
    network = gn.mlp([3, 4, 2], activation="relu", seed=0, dtype="float32")
    loss = gn.get_loss("half-squared-error")
    (planned_value, planned), (general_value, general) = planned_and_general(network, X, t, loss)
    assert planned_value == general_value
    for name, grad in general.items():
        assert planned[name].dtype == np.float32
        np.testing.assert_array_equal(planned[name], grad, err_msg=name)


class _WideScale(gn.layers.Layer):
    """Doubles its input and returns float64 whatever the network's dtype, ignoring ``out``."""

    kind = "wide_scale"

    def forward(self, x, out=None):
        return x * np.float64(2.0)

    def backward(self, grad_output, out=None):
        return grad_output * np.float64(2.0)


def test_planned_pass_accepts_float64_layer():
    network = gn.Sequential([gn.Dense(3, 4, seed=0), gn.ReLU(), _WideScale(), gn.Dense(4, 2, seed=1)],
                            dtype="float32")
    X = np.random.default_rng(8).standard_normal((5, 3)).astype(np.float32)
    t = np.random.default_rng(9).standard_normal((5, 2)).astype(np.float32)
    loss = gn.get_loss("mse")
    (planned_value, planned), (general_value, general) = planned_and_general(network, X, t, loss)
    assert planned_value == pytest.approx(general_value, rel=1e-6)
    for name, grad in general.items():
        assert planned[name].dtype == np.float32
        np.testing.assert_allclose(planned[name], grad, rtol=1e-5, atol=1e-6, err_msg=name)


class _AssigningDense(gn.Dense):
    """A Dense layer whose backward assigns new gradient arrays instead of writing into the old ones."""

    def backward(self, grad_output, out=None):
        self.grads["W"] = self.x.T @ grad_output
        self.grads["b"] = grad_output.sum(axis=0)
        if not self.compute_input_grad:
            return None
        return np.matmul(grad_output, self.params["W"].T, out=out)


@pytest.mark.parametrize("trace", [False, True], ids=["untraced", "traced"])
def test_step_uses_assigned_gradients(trace):
    X = np.random.default_rng(10).standard_normal((6, 3))
    t = np.random.default_rng(11).standard_normal((6, 2))
    plain = gn.Sequential([gn.Dense(3, 4, seed=1), gn.Tanh(), gn.Dense(4, 2, seed=2)])
    assigning = gn.Sequential([_AssigningDense(3, 4, seed=1), gn.Tanh(), _AssigningDense(4, 2, seed=2)])
    for _ in range(3):
        plain.step(X, t, "mse", gn.SGD(learning_rate=0.1), trace=trace)
        assigning.step(X, t, "mse", gn.SGD(learning_rate=0.1), trace=trace)
    for (name, expected), (_, value) in zip(plain.parameters(), assigning.parameters()):
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-15, err_msg=name)


def test_plans_release_replaced_arrays():
    import gc
    import weakref

    network = gn.mlp([3, 4, 2], seed=0, dtype="float64")
    X = np.random.default_rng(12).standard_normal((5, 3))
    t = np.zeros((5, 2))
    layer = network.dense_layers[1]
    replaced = layer.params["W"].copy()
    layer.params["W"] = replaced
    network.step(X, t, "mse", gn.SGD(learning_rate=0.1))  # the plan for 5 rows keeps the replaced array
    layer.params["W"] = replaced.copy()
    network.step(X[:3], t[:3], "mse", gn.SGD(learning_rate=0.1))
    released = weakref.ref(replaced)
    del replaced
    gc.collect()
    assert released() is None


def test_unprepared_targets_of_wrong_shape_raise():
    # (N,) targets for an (N, 1) output broadcast y - t to (N, N) unless the shape is checked.
    network = gn.mlp([2, 3, 1], seed=0, dtype="float64")
    X = np.ones((4, 2))
    with pytest.raises(gn.InvalidInputError, match=r"shape \(4, 4\); expected the network output's shape \(4, 1\)"):
        network.loss_and_backward(X, np.zeros(4), gn.get_loss("mse"))


def test_copy_keeps_subclass_methods():
    network = gn.Sequential([_DoubledDense(3, 4, seed=1), gn.Tanh(), gn.Dense(4, 2, seed=2)], dtype="float32")
    clone = network.copy(dtype="float64")
    assert type(clone.layers[0]) is _DoubledDense
    assert clone.dtype == np.float64
    assert clone.layers[0].params["W"].dtype == np.float64
    X = np.random.default_rng(3).standard_normal((5, 3))
    np.testing.assert_allclose(clone.predict(X), network.predict(X), rtol=1e-5)
    clone.step(X, np.zeros((5, 2)), "mse", gn.SGD(learning_rate=0.1))
    assert not np.array_equal(clone.layers[0].params["W"], network.layers[0].params["W"].astype(np.float64))


def test_copy_maps_layer_reference_to_network():
    # A custom layer that keeps a reference to its network, which a copy must point at the copy.
    class Watched(gn.Dense):
        pass

    network = gn.Sequential([Watched(3, 4, seed=1), gn.Tanh(), gn.Dense(4, 2, seed=2)], dtype="float32")
    network.layers[0].network = network
    clone = network.copy(dtype="float64")
    assert clone.dtype == np.float64
    assert clone.layers[0].network is clone
    assert network.layers[0].params["W"].dtype == np.float32
    X = np.random.default_rng(4).standard_normal((4, 3))
    t = np.random.default_rng(5).standard_normal((4, 2))
    with pytest.warns(UserWarning, match="float64 copy"):
        assert gn.gradcheck(network, X, t, "mse").passed


def test_gradcheck_checks_subclass_math():
    # The check copies the network to float64, so a copy that lost the subclass would check plain Dense.
    class BrokenDense(gn.Dense):
        """A Dense layer whose backward halves dW, which the gradient check must catch."""

        def backward(self, grad_output, out=None):
            result = super().backward(grad_output, out)
            self.grads["W"] *= 0.5
            return result

    X = np.random.default_rng(4).standard_normal((4, 3))
    t = np.random.default_rng(5).standard_normal((4, 2))
    doubled = gn.Sequential([_DoubledDense(3, 4, seed=1), gn.Tanh(), gn.Dense(4, 2, seed=2)])
    assert gn.gradcheck(doubled, X, t, "mse").passed
    broken = gn.Sequential([BrokenDense(3, 4, seed=1), gn.Tanh(), gn.Dense(4, 2, seed=2)])
    assert not gn.gradcheck(broken, X, t, "mse").passed


def test_network_from_last_layers_shares_them():
    network = gn.mlp([2, 3, 3, 1], seed=0, dtype="float32")
    head = gn.Sequential(network.layers[2:])
    assert head.dtype == np.float32  # the layers' network's dtype
    X = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    t = np.zeros((4, 1), dtype=np.float32)
    hidden = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    twin = network.copy()
    for _ in range(2):
        trace = network.step(X, t, "mse", trace=True)
        assert trace.symbols()[:6] == ["W1", "b1", "W2", "b2", "W3", "b3"]
        twin.step(X, t, "mse")
        head_trace = head.step(hidden, t, "mse", trace=True)
        assert head_trace.symbols()[:4] == ["W1", "b1", "W2", "b2"]
        # The head trains the shared layers too, so apply its update to the twin as well.
        twin.layers[2].params["W"][...] = network.layers[2].params["W"]
        twin.layers[2].params["b"][...] = network.layers[2].params["b"]
        twin.layers[4].params["W"][...] = network.layers[4].params["W"]
        twin.layers[4].params["b"][...] = network.layers[4].params["b"]
    # The head used the layers last; asking the network for its parameters names them back.
    assert list(network.get_parameters()) == ["dense1.W", "dense1.b", "dense2.W", "dense2.b", "dense3.W", "dense3.b"]
    assert [layer.name for layer in network.layers] == ["dense1", "relu1", "dense2", "relu2", "dense3"]
    np.testing.assert_array_equal(network.layers[0].params["W"], twin.layers[0].params["W"])
    np.testing.assert_array_equal(network.predict(X), twin.predict(X))


def test_shared_layer_of_other_dtype_raises():
    network = gn.mlp([2, 3, 1], seed=0, dtype="float32")
    with pytest.raises(gn.InvalidInputError, match=r"belongs to a float32 network.*network.copy\(dtype=...\)"):
        gn.Sequential(network.layers[:2], dtype="float64")
    assert network.layers[0].params["W"].dtype == np.float32


def test_same_layer_twice_raises():
    dense = gn.Dense(3, 3)
    with pytest.raises(gn.InvalidInputError, match=r"layers\[2\] is the same dense layer object as layers\[0\]"):
        gn.Sequential([dense, gn.ReLU(), dense])


def test_unhashable_custom_layer_works():
    class Scale(gn.layers.Activation):
        """Doubles its input; defines __eq__, so Python makes it unhashable."""

        kind = "scale"

        def __eq__(self, other):
            return type(other) is type(self)

        def forward(self, z, out=None):
            self.z = z
            self.a = np.multiply(z, 2.0, out=out)
            return self.a

        def local_derivative(self):
            return np.full_like(self._require_forward(self.z), 2.0)

    network = gn.Sequential([gn.Dense(2, 2, seed=0), Scale(), gn.Dense(2, 1, seed=1)])
    X = np.array([[0.5, -1.0], [2.0, 0.3]])
    t = np.array([[1.0], [0.0]])
    assert gn.gradcheck(network, X, t, "mse").passed
    head = gn.Sequential(network.layers[:2])
    assert head.predict(X).shape == (2, 2)
    assert np.isfinite(network.step(X, t, "mse"))


def test_second_view_keeps_dtype():
    network = gn.mlp([2, 3, 3, 1], seed=0, dtype="float32")
    for _ in range(2):
        head = gn.Sequential(network.layers[2:])  # a short-lived view, collected before the next one
        assert head.dtype == np.float32
        del head
    assert [array.dtype for _, array in network.parameters()] == [np.float32] * 6


def test_other_dtype_raises_after_gc():
    network = gn.mlp([2, 3, 3, 1], seed=0, dtype="float32")
    head = gn.Sequential(network.layers[2:])
    del head
    with pytest.raises(gn.InvalidInputError, match="belongs to a float32 network"):
        gn.Sequential(network.layers[2:], dtype="float64")
    assert network.layers[2].params["W"].dtype == np.float32


class _HalfSigmoid(gn.Sigmoid):
    """``a = sigmoid(z / 2)``: a Sigmoid subclass that computes another function."""

    def forward(self, z, out=None):
        self.z = z
        self.a = np.divide(1.0, 1.0 + np.exp(-z / 2), out=out)
        return self.a

    def local_derivative(self):
        return 0.5 * self.a * (1.0 - self.a)

    def backward(self, grad_output, out=None):
        return np.multiply(grad_output, self.local_derivative(), out=out)


def test_sigmoid_subclass_output_is_not_fused():
    network = gn.Sequential([gn.Dense(3, 4, seed=0), gn.Tanh(), gn.Dense(4, 1, seed=1), _HalfSigmoid()])
    rng = np.random.default_rng(6)
    X = rng.standard_normal((6, 3))
    t = (rng.random((6, 1)) > 0.5).astype(np.float64)
    loss = gn.get_loss("binary-cross-entropy")
    assert not network.is_fused(loss)
    y = network.predict(X)
    expected = float(np.mean(-(t * np.log(y) + (1.0 - t) * np.log(1.0 - y))))
    assert network.copy().step(X, t, loss, gn.SGD(0.1)) == pytest.approx(expected, rel=1e-12)
    assert network.copy().step(X, t, loss, gn.SGD(0.1), trace=True).loss == pytest.approx(expected, rel=1e-12)
    assert gn.gradcheck(network, X, t, loss).passed


def test_custom_layer_after_activation_traces():
    network = gn.Sequential([gn.Dense(3, 4, seed=0), gn.Tanh(), MixLayer(4), gn.Dense(4, 2, seed=1)])
    rng = np.random.default_rng(7)
    X = rng.standard_normal((5, 3))
    t = rng.standard_normal((5, 2))
    untraced = network.copy()
    trace = network.step(X, t, "mse", gn.SGD(0.1), trace=True)
    outputs = [layer.symbols["output"] for layer in network.layers]
    assert len(set(outputs)) == len(outputs)
    hidden = np.tanh(X @ untraced.layers[0].params["W"] + untraced.layers[0].params["b"])
    np.testing.assert_allclose(trace.value(outputs[1]), hidden, rtol=1e-12)
    np.testing.assert_allclose(trace.value(outputs[2]), hidden @ untraced.layers[2].params["M"], rtol=1e-12)
    untraced.step(X, t, "mse", gn.SGD(0.1))
    for (name, traced_value), (_, untraced_value) in zip(network.parameters(), untraced.parameters()):
        np.testing.assert_allclose(traced_value, untraced_value, rtol=1e-12, err_msg=name)


class _WeightedBinaryCrossEntropy(DoubledLoss, gn.BinaryCrossEntropy):
    """Twice the binary cross-entropy, defined through value and gradient only."""


class _WeightedCategoricalCrossEntropy(DoubledLoss, gn.CategoricalCrossEntropy):
    """Twice the categorical cross-entropy, defined through value and gradient only."""


class _SmoothedCategoricalCrossEntropy(gn.CategoricalCrossEntropy):
    """Categorical cross-entropy on label-smoothed targets: only prepare_targets differs."""

    def prepare_targets(self, t, y_shape, dtype):
        onehot = super().prepare_targets(t, y_shape, dtype)
        return 0.9 * onehot + 0.1 / y_shape[1]


@pytest.mark.parametrize("loss_class, output", [(_WeightedBinaryCrossEntropy, gn.Sigmoid),
                                                (_WeightedCategoricalCrossEntropy, gn.Softmax)])
def test_loss_subclass_with_own_math_not_fused(loss_class, output):
    network = gn.Sequential([gn.Dense(3, 4, seed=0), gn.Tanh(), gn.Dense(4, 3, seed=1), output()])
    rng = np.random.default_rng(8)
    X = rng.standard_normal((6, 3))
    t = np.eye(3)[rng.integers(0, 3, size=6)]
    loss = loss_class()
    assert not network.is_fused(loss)

    base = loss_class.__bases__[-1]()  # the built-in loss after the mixin
    expected = 2.0 * base.value(network.predict(X), t)
    untraced = network.copy()
    assert untraced.step(X, t, loss, gn.SGD(0.1)) == pytest.approx(expected, rel=1e-12)
    trace = network.copy().step(X, t, loss, gn.SGD(0.1), trace=True)
    assert not trace.fused
    assert trace.loss == pytest.approx(expected, rel=1e-12)
    assert gn.gradcheck(network, X, t, loss).passed


def test_loss_subclass_with_own_targets_fused():
    network = gn.Sequential([gn.Dense(3, 4, seed=0), gn.Tanh(), gn.Dense(4, 3, seed=1), gn.Softmax()])
    loss = _SmoothedCategoricalCrossEntropy()
    assert network.is_fused(loss)


class _HalfSlopeReLU(gn.ReLU):
    """A ReLU subclass whose derivative is 0.5 for z <= 0, with its own formula."""

    derivative_formula = "1 if z > 0 else 0.5"

    def local_derivative(self):
        return np.where(self.z > 0, 1.0, 0.5).astype(self.z.dtype)


class _UnstatedSlopeReLU(gn.ReLU):
    """A ReLU subclass with its own derivative but the inherited derivative formula."""

    def local_derivative(self):
        return np.where(self.z > 0, 1.0, 0.5).astype(self.z.dtype)


class _Swish(gn.layers.Activation):
    """``a = z · sigmoid(z)``: a custom activation that states its derivative formula."""

    kind = "swish"
    formula = "z · sigmoid(z)"
    derivative_formula = "s + z s (1 - s), s = sigmoid(z)"

    def forward(self, z, out=None):
        self.z = z
        self.a = np.multiply(z, 1.0 / (1.0 + np.exp(-z)), out=out)
        return self.a

    def local_derivative(self):
        s = 1.0 / (1.0 + np.exp(-self.z))
        return s + self.z * s * (1.0 - s)


@pytest.mark.parametrize("activation, formula", [
    (gn.ReLU, "1 if z1 > 0 else 0"),
    (_HalfSlopeReLU, "1 if z > 0 else 0.5"),
    (_UnstatedSlopeReLU, "f'(z)"),
    (_Swish, "s + z s (1 - s), s = sigmoid(z)"),
])
def test_trace_shows_layer_derivative_formula(activation, formula):
    network = gn.Sequential([gn.Dense(2, 3, seed=0), activation(), gn.Dense(3, 1, seed=1)])
    trace = network.step(np.array([[1.0, -2.0]]), np.array([[0.5]]), "mse", gn.SGD(0.1), trace=True)
    derivative = [quantity for quantity in trace.quantities if quantity.operation.startswith("derivative:")]
    assert len(derivative) == 1
    assert derivative[0].formula == formula
