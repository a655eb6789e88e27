"""Divergence is caught: training stops with DivergenceError and keeps finite parameters."""

import contextlib
import warnings

import numpy as np
import pytest

import glassnet as gn
from conftest import blas_updates
from glassnet.netfile import load_problem
from glassnet.training import Callback, FiniteGuard, fit

X = np.array([[1.0], [2.0], [3.0]])
T = np.array([[2.0], [4.0], [6.0]])

# Dense 1 -> 1, W = 0, b = 0, mean half squared error, full batch:
#   y = 0, L = ½ (4 + 16 + 36) / 3 = 9.333...
#   dW = Σ x (y - t) / 3 = -28 / 3, db = -12 / 3 = -4
# With lr 0.1: W = 0.9333..., b = 0.4, and so on, converging to W = 2, b = 0.
LOSSES_LR_01 = [9.333333333333334, 1.881481481481482, 0.4027621399176959]
# With lr 1.0 each step overshoots and the loss grows about 20x per step.
LOSSES_LR_1 = [9.333333333333334, 192.14814814814812, 3971.1769547325093]


def line_network(dtype):
    return gn.Sequential([gn.Dense(1, 1, W=[[0.0]], b=[0.0])], dtype=dtype)


class BatchLosses(Callback):
    """Record every batch loss and the parameters after every step."""

    def __init__(self):
        self.losses = []
        self.parameters = []

    def on_batch_end(self, state):
        self.losses.append(state.batch_loss)
        self.parameters.append(state.network.get_parameters())


def train_line(dtype, learning_rate, epochs, validation=False):
    network = line_network(dtype)
    recorder = BatchLosses()
    options = {"validation_data": (X, T)} if validation else {}
    error = None
    try:
        fit(network, X, T, optimizer=gn.SGD(learning_rate=learning_rate), epochs=epochs, batch_size=3,
            shuffle=False, callbacks=[recorder], **options)
    except gn.DivergenceError as exc:
        error = exc
    return network, recorder, error


@pytest.mark.parametrize("validation", [False, True])
def test_line_converges_float64(validation):
    network, recorder, error = train_line("float64", 0.1, 2000, validation)
    assert error is None
    np.testing.assert_allclose(recorder.losses[:3], LOSSES_LR_01, rtol=1e-14)
    assert network.layers[0].params["W"][0, 0] == pytest.approx(2.0, abs=1e-9)
    assert abs(network.layers[0].params["b"][0]) < 1e-9


@pytest.mark.parametrize("validation", [False, True])
def test_line_converges_float32(validation):
    network, recorder, error = train_line("float32", 0.1, 2000, validation)
    assert error is None
    np.testing.assert_allclose(recorder.losses[:3], LOSSES_LR_01, rtol=1e-6)
    assert network.layers[0].params["W"][0, 0] == pytest.approx(2.0, abs=1e-5)
    assert abs(network.layers[0].params["b"][0]) < 1e-5


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("validation", [False, True])
def test_line_diverges_with_named_error(dtype, validation):
    network, recorder, error = train_line(dtype, 1.0, 10_000, validation)
    assert isinstance(error, gn.DivergenceError)
    rtol = 1e-14 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(recorder.losses[:3], LOSSES_LR_1, rtol=rtol)
    assert all(b > a for a, b in zip(recorder.losses, recorder.losses[1:]))
    if validation:
        # The validation loss after the last completed step overflows first.
        assert error.step == len(recorder.losses)
        assert "validation loss became inf" in str(error)
    else:
        # The training loss of the step after the last completed one overflows.
        assert error.step == len(recorder.losses) + 1
        assert "training loss became inf" in str(error)
    assert error.epoch == error.step
    message = str(error)
    assert f"epoch {error.epoch}, step {error.step}" in message
    assert "learning rate" in message
    assert "standardise the inputs" in message


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_divergence_keeps_last_finite_parameters(dtype):
    network, recorder, error = train_line(dtype, 1.0, 10_000)
    assert error is not None
    kept = network.get_parameters()
    last = recorder.parameters[-1]
    for name in kept:
        assert np.isfinite(kept[name]).all()
        np.testing.assert_array_equal(kept[name], last[name])


def test_divergence_history_attached():
    _, recorder, error = train_line("float64", 1.0, 10_000)
    assert error.history["train_loss"] == recorder.losses


def test_divergence_outside_fit_has_no_history():
    # Traced steps of a lesson file diverge outside fit, so there is no history, but the attribute exists.
    problem = load_problem(None, {"learning_rate": 1e308})
    with pytest.raises(gn.DivergenceError) as caught:
        problem.run(3)
    assert caught.value.history is None


def test_divergence_in_update_restores_parameters():
    # Loss 0.5 and gradient 1 are finite, but lr · dW = 1e39 overflows float32.
    network = gn.Sequential([gn.Dense(1, 1, W=[[1.0]], b=[0.0])], dtype="float32")
    before = network.get_parameters()
    with pytest.raises(gn.DivergenceError) as caught:
        fit(network, [[1.0]], [[0.0]], optimizer=gn.SGD(learning_rate=1e39), epochs=1, batch_size=1)
    message = str(caught.value)
    assert "epoch 1, step 1" in message
    assert "dense1.W" in message
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, before[name])


def test_divergence_first_step_keeps_initial():
    network = gn.Sequential([gn.Dense(1, 1, W=[[1.0]], b=[0.0])], dtype="float64")
    # y = 1e200, so ½ y² overflows float64 in the very first loss.
    with pytest.raises(gn.DivergenceError) as caught:
        fit(network, [[1e200]], [[0.0]], optimizer=gn.SGD(learning_rate=0.1), epochs=1, batch_size=1)
    assert "epoch 1, step 1: the training loss became inf" in str(caught.value)
    np.testing.assert_array_equal(network.layers[0].params["W"], [[1.0]])
    np.testing.assert_array_equal(network.layers[0].params["b"], [0.0])


def guarded_step(network, grads, optimizer):
    """Set the gradients by hand and take one guarded step; return the guard's verdict."""
    for layer in network.dense_layers:
        for key, value in grads[layer.number].items():
            layer.grads[key][...] = value
    guard = FiniteGuard(network, optimizer)
    with np.errstate(over="ignore", invalid="ignore"):
        return guard.step()


# The flat SGD update runs in NumPy for a network this small, or in the BLAS axpy (see glassnet._blas).
UPDATES = pytest.mark.parametrize("updates", [contextlib.nullcontext, blas_updates], ids=["numpy", "blas"])


@UPDATES
def test_finite_guard_large_finite_parameters_pass(updates):
    # The sum of squares of these float32 values overflows, yet every value is finite and
    # the update is small: the guard takes its exact path and the step succeeds.
    network = gn.Sequential([gn.Dense(1, 4, W=[[3e38, -3e38, 1.0, 3e38]])], dtype="float32")
    expected = network.copy()
    grads = {1: {"W": np.array([[1.0, 2.0, 3.0, 4.0]]), "b": np.array([1.0, 1.0, 1.0, 1.0])}}
    with updates():
        assert guarded_step(network, grads, gn.SGD(learning_rate=0.5)) == ""
        for layer in expected.dense_layers:
            for key, value in grads[layer.number].items():
                layer.grads[key][...] = value
        gn.SGD(learning_rate=0.5).step(expected.slots())
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, expected.get_parameters()[name])


# A first momentum step equals a plain one, but runs as one update of the flat arrays with a velocity.
MOMENTUM = pytest.mark.parametrize("momentum", [0.0, 0.9])


@MOMENTUM
@UPDATES
def test_guard_overflow_restores_exactly(updates, momentum):
    # W = 3e38 minus lr · dW = 0.5 · -2e38 gives 4e38, beyond float32's largest value 3.4e38.
    network = gn.Sequential([gn.Dense(1, 2, W=[[3e38, 0.5]], b=[0.25, -0.125])], dtype="float32")
    before = network.get_parameters()
    grads = {1: {"W": np.array([[-2e38, 1.0]]), "b": np.array([1.0, 1.0])}}
    with updates():
        problem = guarded_step(network, grads, gn.SGD(learning_rate=0.5, momentum=momentum))
    assert problem == "the update made parameter dense1.W non-finite (overflow)"
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("gradient", [0.0, 1e-40])
@MOMENTUM
@UPDATES
def test_guard_rate_beyond_float32_keeps_parameters(updates, momentum, gradient):
    # 1e39 is a finite learning rate, but inf in float32. The update inf · 0 is NaN and inf · 1e-40
    # is inf, however small the gradient's norm.
    network = gn.Sequential([gn.Dense(1, 2, W=[[0.5, -0.5]], b=[0.25, 0.0])], dtype="float32")
    before = network.get_parameters()
    grads = {1: {"W": np.full((1, 2), gradient), "b": np.zeros(2)}}
    with updates():
        problem = guarded_step(network, grads, gn.SGD(learning_rate=1e39, momentum=momentum))
    assert "parameter dense1.W" in problem
    assert "non-finite (overflow)" in problem
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("make_optimizer", [lambda: gn.SGD(learning_rate=0.5),
                                            lambda: gn.AdamW(learning_rate=0.5, weight_decay=0.5)],
                         ids=["sgd", "adamw"])
@pytest.mark.parametrize("rate", [np.float32(0.5), np.float16(0.5)], ids=["float32", "float16"])
@UPDATES
def test_guard_bounds_are_floats_with_numpy_rate(updates, rate, make_optimizer):
    # A float64 network may hold values and gradients beyond float32's range. A NumPy scalar rate
    # must not turn the bounds into float32 arithmetic, which overflows with a RuntimeWarning.
    network = gn.Sequential([gn.Dense(1, 2, W=[[1e39, 0.5]], b=[0.25, 0.0])], dtype="float64")
    optimizer = make_optimizer()
    optimizer.learning_rate = rate
    guard = FiniteGuard(network, optimizer)
    for layer in network.dense_layers:
        layer.grads["W"][...] = 1e39
        layer.grads["b"][...] = 1.0
    with updates(), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert guard.step() == ""
    assert guard.bounds
    for bound in guard.bounds.values():
        assert type(bound) is float
        assert bound < 1e300


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@UPDATES
def test_guard_non_finite_gradient_keeps_parameters(updates, bad, momentum):
    network = gn.mlp([2, 3, 1], seed=1, dtype="float64")
    before = network.get_parameters()
    grads = {1: {"W": np.ones((2, 3)), "b": np.ones(3)}, 2: {"W": np.ones((3, 1)), "b": np.array([bad])}}
    with updates():
        problem = guarded_step(network, grads, gn.SGD(learning_rate=0.1, momentum=momentum))
    assert problem == f"the gradient of dense2.b became {bad} at index (0,)"
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, before[name])


OPTIMIZERS = [
    lambda: gn.SGD(learning_rate=0.1),
    lambda: gn.SGD(learning_rate=0.1, momentum=0.9),
    lambda: gn.SGD(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    lambda: gn.SGD(learning_rate=0.1, clip_norm=0.05),
    lambda: gn.Adam(learning_rate=0.01, weight_decay=1e-3),
    lambda: gn.AdamW(learning_rate=0.01, weight_decay=0.1),
    lambda: gn.RMSprop(learning_rate=0.01, weight_decay=1e-3),
]


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@UPDATES
def test_guarded_steps_equal_plain_steps_bitwise(updates, make_optimizer, dtype):
    # Every layer is 3 wide, so parameters share shapes and any shared work array would show.
    rng = np.random.default_rng(4)
    X = rng.standard_normal((8, 3))
    T = rng.standard_normal((8, 3))
    guarded = gn.mlp([3, 3, 3, 3], activation="tanh", output="identity", seed=2, dtype=dtype)
    plain = guarded.copy()
    guard = FiniteGuard(guarded, make_optimizer())
    optimizer = make_optimizer()
    loss = gn.get_loss("mse")
    with updates():
        for _ in range(4):
            guarded.loss_and_backward(guarded.prepare_input(X), T.astype(dtype), loss)
            assert guard.step() == ""
            plain.loss_and_backward(plain.prepare_input(X), T.astype(dtype), loss)
            optimizer.step(plain.slots())
    for name, value in guarded.get_parameters().items():
        np.testing.assert_array_equal(value, plain.get_parameters()[name])


def test_divergence_no_numpy_warnings():
    with warnings.catch_warnings(record=True) as records, np.errstate(all="warn"):
        warnings.simplefilter("always")
        _, _, error = train_line("float32", 1.0, 10_000)
    assert error is not None
    assert [str(record.message) for record in records] == []


class ReplaceParameter(Callback):
    """After the first batch, write ``value`` into dense1.W in place."""

    def __init__(self, value):
        self.value = value
        self.done = False

    def on_batch_end(self, state):
        if not self.done:
            state.network.layers[0].params["W"][...] = self.value
            self.done = True


def test_callback_writing_inf_is_caught():
    # tanh saturates, so the loss stays finite: only the parameter check can notice.
    network = gn.Sequential([gn.Dense(1, 1, W=[[0.5]]), gn.Tanh()], dtype="float64")
    with pytest.raises(gn.DivergenceError, match="parameter dense1.W was already non-finite"):
        fit(network, X, T / 10, optimizer=gn.SGD(learning_rate=0.1), epochs=3, batch_size=1, shuffle=False,
            callbacks=[ReplaceParameter(np.inf)])


def test_callback_building_network_from_layers_keeps_training():
    class LogHidden(Callback):
        def on_epoch_end(self, state):
            gn.Sequential(state.network.layers[:2])  # e.g. to look at the hidden activations

    network = gn.mlp([1, 3, 1], activation="tanh", seed=0, dtype="float64")
    weights = []

    class Record(Callback):
        def on_epoch_end(self, state):
            weights.append(state.network.layers[0].params["W"].copy())

    fit(network, X, T, optimizer=gn.SGD(learning_rate=0.01), epochs=3, batch_size=3, shuffle=False,
        callbacks=[LogHidden(), Record()])
    assert not np.array_equal(weights[1], weights[2])


class SetLearningRate(Callback):
    """Set the optimizer's learning rate to ``value`` after every step."""

    def __init__(self, value):
        self.value = value

    def on_batch_end(self, state):
        state.optimizer.learning_rate = self.value


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("rate", [np.nan, np.inf])
@UPDATES
def test_callback_non_finite_rate_is_named(updates, rate, momentum):
    network = gn.mlp([1, 3, 1], activation="tanh", seed=0, dtype="float64")
    steps = BatchLosses()
    with updates(), pytest.raises(gn.DivergenceError, match=f"the learning rate became {rate}"):
        fit(network, X, T, optimizer=gn.SGD(learning_rate=0.01, momentum=momentum), epochs=2, batch_size=1,
            shuffle=False, callbacks=[steps, SetLearningRate(rate)])
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, steps.parameters[-1][name])


def separate_copy(network):
    """Return a copy of ``network`` whose dense1.W is an array of its own, so that it is updated per parameter."""
    copy = network.copy()
    copy.layers[0].params["W"] = copy.layers[0].params["W"].copy()
    return copy


def fit_both(network, make_optimizer):
    """Fit ``network`` and a per-parameter copy of it alike; return the copy."""
    separate = separate_copy(network)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((12, 3))
    T = rng.standard_normal((12, 2))
    for net in (network, separate):
        fit(net, X, T, optimizer=make_optimizer(), epochs=3, batch_size=4, seed=0)
    assert network._current_slots().flat is not None
    assert separate._current_slots().flat is None
    return separate


@pytest.mark.parametrize("make_optimizer", [
    lambda: gn.Adam(learning_rate=0.01, eps=1e-50),
    lambda: gn.AdamW(learning_rate=0.01, eps=1e-50),
    lambda: gn.RMSprop(learning_rate=0.01, eps=1e-50),
], ids=["adam", "adamw", "rmsprop"])
def test_eps_below_float32_trains_like_per_parameter(make_optimizer):
    # 1e-50 is 0 in float32, so sqrt(v) + eps is 0 / 0 = NaN in the zero padding between the
    # parameters of the flat arrays. No parameter has a zero gradient, so the per-parameter
    # update stays finite, and the guard must judge the parameters only.
    network = gn.mlp([3, 4, 2], activation="tanh", output="identity", seed=1, dtype="float32")
    separate = fit_both(network, make_optimizer)
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, separate.get_parameters()[name], err_msg=name)


def test_non_finite_padding_does_not_stop_training():
    # A rate beyond float32 makes 0 · inf = NaN in the padding of the flat parameter array, which
    # no parameter shows. Weight decay carries that padding into the next flat update.
    network = gn.mlp([3, 4, 2], activation="tanh", output="identity", seed=1, dtype="float32")
    initial = network.get_parameters()
    rng = np.random.default_rng(7)
    with np.errstate(over="ignore", invalid="ignore"):
        network.step(rng.standard_normal((4, 3)), rng.standard_normal((4, 2)), "mse", gn.SGD(learning_rate=1e39))
    network.set_parameters(initial)
    separate = fit_both(network, lambda: gn.SGD(learning_rate=0.05, momentum=0.9, weight_decay=0.01))
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, separate.get_parameters()[name], err_msg=name)
