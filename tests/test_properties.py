"""Properties of backpropagation over random architectures, batch sizes and dtypes (hypothesis).

* Gradients match central finite differences (float64).
* Permuting the rows of a batch leaves the gradient unchanged.
* Duplicating every row leaves it unchanged, because the loss is a mean.
* A zero upstream gradient gives exactly zero gradients.
* Two backward calls on the same forward pass give identical gradients.
"""

import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import glassnet as gn
from conftest import blas_updates
from glassnet.layers import Dropout, make_activation
from glassnet.losses import get_loss

HIDDEN = ["relu", "leaky_relu", "sigmoid", "tanh", "identity"]
# (output activation or None, loss): fused, unfused and plain outputs.
OUTPUTS = [
    (None, "half-squared-error"),
    (None, "mean-squared-error"),
    ("sigmoid", "binary-cross-entropy"),
    ("sigmoid", "half-squared-error"),
    ("softmax", "categorical-cross-entropy"),
    ("softmax", "mean-squared-error"),
    ("tanh", "mean-squared-error"),
]
TOLERANCE = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 2e-4, "atol": 1e-6}}
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw, dtypes=("float64", "float32"), dropout=False):
    """Draw (network, X, t, loss, dtype) for a random MLP and batch."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    depth = draw(st.integers(0, 3))
    widths = [draw(st.integers(1, 5)) for _ in range(depth + 1)]
    output, loss_name = draw(st.sampled_from(OUTPUTS))
    n_out = draw(st.integers(2, 4)) if output == "softmax" else draw(st.integers(1, 3))
    hidden = draw(st.sampled_from(HIDDEN))
    batch = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from(dtypes))

    sizes = widths + [n_out]
    layers = []
    for i in range(len(sizes) - 1):
        W = rng.normal(scale=1.0 / np.sqrt(sizes[i]), size=(sizes[i], sizes[i + 1]))
        b = rng.normal(scale=0.1, size=sizes[i + 1])
        layers.append(gn.Dense(sizes[i], sizes[i + 1], W=W, b=b))
        if i < len(sizes) - 2:
            layers.append(make_activation(hidden))
            if dropout:
                layers.append(Dropout(0.3, seed=seed))
        elif output is not None:
            layers.append(make_activation(output))
    network = gn.Sequential(layers, dtype=dtype)

    X = rng.normal(size=(batch, sizes[0]))
    if loss_name == "categorical-cross-entropy":
        t = rng.integers(0, n_out, size=batch)
    elif loss_name == "binary-cross-entropy":
        t = rng.uniform(0.0, 1.0, size=(batch, n_out))
    else:
        t = rng.normal(size=(batch, n_out))
    return network, X, t, get_loss(loss_name), dtype


def gradients(network, X, t, loss):
    """Return {name: gradient copy} of the mean loss on (X, t)."""
    X = network.prepare_input(X)
    t = loss.prepare_targets(t, (X.shape[0], network.out_features), network.dtype)
    network.loss_and_backward(X, t, loss)
    return {name: grad.copy() for name, grad in network.gradients()}


def assert_same_gradients(first, second, dtype):
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_allclose(first[name], second[name], err_msg=name, **TOLERANCE[dtype])


def min_abs_preactivation(network, X):
    """Return the smallest |z| entering a ReLU-family layer (inf when there is none)."""
    network.forward(X)
    smallest = np.inf
    for layer in network.layers:
        if layer.kind in ("relu", "leaky_relu"):
            smallest = min(smallest, float(np.min(np.abs(layer.z))))
    return smallest


@SETTINGS
@given(problem=problems(dtypes=("float64",)))
def test_gradients_match_finite_differences(problem):
    network, X, t, loss, _ = problem
    # A ReLU kink within reach of the finite-difference step makes the quotient meaningless.
    assume(min_abs_preactivation(network, X) > 1e-3)
    analytic = gradients(network, X, t, loss)
    X = network.prepare_input(X)
    t = loss.prepare_targets(t, (X.shape[0], network.out_features), network.dtype)
    eps = 1e-6
    for name, param in network.parameters():
        numerical = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            original = param[index]
            param[index] = original + eps
            plus = network.loss_and_backward(X, t, loss)
            param[index] = original - eps
            minus = network.loss_and_backward(X, t, loss)
            param[index] = original
            numerical[index] = (plus - minus) / (2 * eps)
        # Central differences are accurate to about eps² · L''' + rounding / eps ≈ 1e-9 here.
        np.testing.assert_allclose(analytic[name], numerical, rtol=1e-5, atol=1e-7, err_msg=name)


@SETTINGS
@given(problem=problems(), data=st.data())
def test_row_permutation_keeps_gradient(problem, data):
    network, X, t, loss, dtype = problem
    order = np.array(data.draw(st.permutations(range(X.shape[0]))))
    original = gradients(network, X, t, loss)
    permuted = gradients(network, X[order], np.asarray(t)[order], loss)
    assert_same_gradients(original, permuted, dtype)


@SETTINGS
@given(problem=problems())
def test_duplicated_rows_keep_gradient(problem):
    network, X, t, loss, dtype = problem
    t = np.asarray(t)
    original = gradients(network, X, t, loss)
    doubled = gradients(network, np.concatenate([X, X]), np.concatenate([t, t]), loss)
    assert_same_gradients(original, doubled, dtype)


@SETTINGS
@given(problem=problems(dropout=True))
def test_zero_upstream_gradient_gives_zero(problem):
    network, X, _, _, _ = problem
    y = network.forward(X)
    network.backward(np.zeros_like(y))
    for name, grad in network.gradients():
        assert np.all(grad == 0), name


@SETTINGS
@given(problem=problems(dropout=True))
def test_two_backward_calls_agree(problem):
    network, X, _, _, dtype = problem
    y = network.forward(X)
    upstream = np.random.default_rng(0).normal(size=y.shape).astype(dtype)
    network.backward(upstream)
    first = {name: grad.copy() for name, grad in network.gradients()}
    network.backward(upstream)
    for name, grad in network.gradients():
        np.testing.assert_array_equal(grad, first[name], err_msg=name)


@SETTINGS
@given(problem=problems())
def test_gradient_dtype_matches_network(problem):
    network, X, t, loss, dtype = problem
    for name, grad in gradients(network, X, t, loss).items():
        assert grad.dtype == np.dtype(dtype), name
        assert np.isfinite(grad).all(), name


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_permutation_exact_example(dtype):
    # A fixed case of the permutation property, easy to step through when it fails.
    network = gn.Sequential([gn.Dense(2, 2, W=[[0.3, 0.4], [0.5, 0.6]], b=[0.1, 0.2]), gn.ReLU(),
                             gn.Dense(2, 1, W=[[0.7], [0.8]], b=[0.3]), gn.Sigmoid()], dtype=dtype)
    X = np.array([[0.1, 0.2], [1.0, -1.0], [0.5, 0.5]])
    t = np.array([[1.0], [0.0], [1.0]])
    loss = get_loss("half-squared-error")
    original = gradients(network, X, t, loss)
    reversed_rows = gradients(network, X[::-1], t[::-1], loss)
    assert_same_gradients(original, reversed_rows, dtype)


def traced_step(network, X, t, loss, planned):
    """Run one traced SGD step, through the planned pass or the general one."""
    network._writes_into_out = planned
    return network.step(X, t, loss, gn.SGD(learning_rate=0.1), trace=True)


@SETTINGS
@given(problems(dropout=True))
def test_planned_trace_equals_general_trace(problem):
    # The planned pass reuses work arrays and records copies; the general pass allocates.
    network, X, t, loss, _ = problem
    general = network.copy()
    for position, (layer, twin) in enumerate(zip(network.layers, general.layers)):
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(position)
            twin.rng = np.random.default_rng(position)
    planned_trace = traced_step(network, X, t, loss, planned=True)
    general_trace = traced_step(general, X, t, loss, planned=False)
    assert planned_trace.symbols() == general_trace.symbols()
    for planned, reference in zip(planned_trace, general_trace):
        assert planned.to_dict() == reference.to_dict(), planned.symbol


@pytest.mark.parametrize("updates", [contextlib.nullcontext, blas_updates], ids=["numpy", "blas"])
@SETTINGS
@given(problems())
def test_traced_and_untraced_steps_agree(updates, problem):
    # With blas_updates every SGD update goes through the BLAS axpy, as a large network's does.
    network, X, t, loss, _ = problem
    twin = network.copy()
    with updates():
        network.step(X, t, loss, gn.SGD(learning_rate=0.1))
        trace = twin.step(X, t, loss, gn.SGD(learning_rate=0.1), trace=True)
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, twin.get_parameters()[name])
    for _, symbol, param, _ in network.slots():
        np.testing.assert_array_equal(trace.parameters_after[symbol], param)


OPTIMIZERS = [lambda: gn.SGD(0.1, momentum=0.9), lambda: gn.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
              lambda: gn.Adam(0.01, clip_norm=0.5), lambda: gn.AdamW(0.01, weight_decay=0.1),
              lambda: gn.RMSprop(0.01)]


@SETTINGS
@given(problem=problems(), make=st.sampled_from(OPTIMIZERS), l2=st.sampled_from([0.0, 0.01]))
def test_traced_steps_agree_for_every_optimizer(problem, make, l2):
    network, X, t, loss, _ = problem
    twin = network.copy()
    optimizer = make()
    twin_optimizer = make()
    for _ in range(2):
        before = {symbol: param.copy() for _, symbol, param, _ in twin.slots()}
        value = network.step(X, t, loss, optimizer, l2=l2)
        gradients_untraced = {symbol: grad.copy() for _, symbol, _, grad in network.slots()}
        trace = twin.step(X, t, loss, twin_optimizer, trace=True, l2=l2)
        assert trace.loss == value
        for (_, symbol, param, _), (_, _, twin_param, _) in zip(network.slots(), twin.slots()):
            np.testing.assert_array_equal(twin_param, param, err_msg=symbol)
            np.testing.assert_array_equal(trace.parameters_before[symbol], before[symbol], err_msg=symbol)
            np.testing.assert_array_equal(trace.parameters_after[symbol], param, err_msg=symbol)
            if twin_optimizer.clip_norm is None:
                # Clipping scales the gradients in the slots after the trace has recorded them unclipped.
                gradient_symbol = f"dL/d{symbol}" if l2 and symbol.startswith("W") else f"d{symbol}"
                np.testing.assert_array_equal(trace.value(gradient_symbol), gradients_untraced[symbol],
                                              err_msg=symbol)
