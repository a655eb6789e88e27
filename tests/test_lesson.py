"""The classic 2-2-1 lesson, value by value, in float64."""

import numpy as np
import pytest

import glassnet as gn
from conftest import LESSON_T, LESSON_X, lesson_network

# Reference values of the one-step lesson. Arithmetic:
#   z1 = [0.1·0.3 + 0.2·0.5 + 0.1, 0.1·0.4 + 0.2·0.6 + 0.2] = [0.23, 0.36]; ReLU keeps both.
#   z2 = 0.23·0.7 + 0.36·0.8 + 0.3 = 0.749; y = sigmoid(0.749).
#   dL/dy = y - 1; delta2 = (y - 1)·y(1 - y); dW2 = a1ᵀ·delta2; delta1 = delta2·W2ᵀ ⊙ [1, 1].
REFERENCE = {
    "z1": [[0.23, 0.36]],
    "a1": [[0.23, 0.36]],
    "z2": [[0.749]],
    "y": [[0.6789607651506573]],
    "dL/dy": [[-0.3210392348493427]],
    "sigmoid'(z2)": [[0.21797304453669128]],
    "delta2": [[-0.06997789943584107]],
    "dW2": [[-0.01609491687024345], [-0.02519204379690278]],
    "db2": [-0.06997789943584107],
    "delta1": [[-0.04898452960508874, -0.05598231954867286]],
    "dW1": [[-0.00489845296050887, -0.00559823195486729], [-0.00979690592101775, -0.01119646390973457]],
    "db1": [-0.04898452960508874, -0.05598231954867286],
    "W1_new": [[0.3004898452960509, 0.4005598231954868], [0.5009796905921018, 0.6011196463909735]],
    "b1_new": [0.10489845296050888, 0.2055982319548673],
    "W2_new": [[0.7016094916870244], [0.8025192043796904]],
    "b2_new": [0.3069977899435841],
    "L": 0.05153309515632571,
}


@pytest.fixture
def first_step():
    network = lesson_network()
    trace = network.step(LESSON_X, LESSON_T, "half-squared-error", gn.SGD(0.1), trace=True)
    return network, trace


@pytest.mark.parametrize("symbol", sorted(REFERENCE))
def test_lesson_quantity_matches_reference(first_step, symbol):
    _, trace = first_step
    np.testing.assert_allclose(trace.value(symbol), REFERENCE[symbol], rtol=1e-12, atol=0)


def test_lesson_quantity_shapes(first_step):
    _, trace = first_step
    for symbol, expected in REFERENCE.items():
        assert trace[symbol].shape == np.shape(expected), symbol


def test_lesson_parameters_after_match_network(first_step):
    network, trace = first_step
    for symbol, value in trace.parameters_after.items():
        np.testing.assert_array_equal(value, trace.value(f"{symbol}_new"))
    np.testing.assert_array_equal(network.layers[0].params["W"], trace.parameters_after["W1"])


def test_lesson_parameters_before_are_given_weights(first_step):
    _, trace = first_step
    np.testing.assert_array_equal(trace.parameters_before["W1"], [[0.3, 0.4], [0.5, 0.6]])
    np.testing.assert_array_equal(trace.parameters_before["b2"], [0.3])


def test_lesson_forward_after_step():
    network = lesson_network()
    network.step(LESSON_X, LESSON_T, "half-squared-error", gn.SGD(0.1))
    np.testing.assert_allclose(network.forward(LESSON_X), [[0.682568502067625]], rtol=1e-12)


def test_lesson_second_step():
    network = lesson_network()
    optimizer = gn.SGD(0.1)
    network.step(LESSON_X, LESSON_T, "half-squared-error", optimizer)
    trace = network.step(LESSON_X, LESSON_T, "half-squared-error", optimizer, trace=True)
    after = trace.parameters_after
    np.testing.assert_allclose(after["W2"], [[0.7032267486469832], [0.8050356221721371]], rtol=1e-12)
    np.testing.assert_allclose(after["b2"], [0.31387553827807796], rtol=1e-12)
    np.testing.assert_allclose(after["b1"], [0.10972394647342439, 0.21111775707618904], rtol=1e-12)
    assert trace.step == 2


def test_lesson_trace_order_follows_the_math(first_step):
    _, trace = first_step
    order = trace.symbols()
    expected = ["W1", "b1", "W2", "b2", "X", "z1", "a1", "z2", "y", "t", "L", "dL/dy", "sigmoid'(z2)",
                "delta2", "dW2", "db2", "dL/da1", "ReLU'(z1)", "delta1", "dW1", "db1",
                "W1_new", "b1_new", "W2_new", "b2_new"]
    assert order == expected


def test_lesson_trace_entries_are_complete(first_step):
    _, trace = first_step
    for quantity in trace:
        assert quantity.name, quantity.symbol
        assert quantity.formula, quantity.symbol
        assert quantity.phase in gn.trace.PHASES
    assert trace["dW2"].formula == "a1ᵀ · delta2"
    assert trace["delta2"].formula == "dL/dy ⊙ sigmoid'(z2)"
    assert trace["sigmoid'(z2)"].formula == "y(1 - y)"


def test_lesson_with_binary_cross_entropy():
    network = lesson_network()
    trace = network.step(LESSON_X, LESSON_T, "binary-cross-entropy", gn.SGD(0.1), trace=True)
    assert trace.loss == pytest.approx(0.38719193637623267, rel=1e-12)
    np.testing.assert_allclose(trace.value("delta2"), [[-0.3210392348493427]], rtol=1e-12)
    assert trace.fused
    assert "sigmoid'(z2)" not in trace
    assert "cancels" in trace["delta2"].note


def test_trace_values_are_copies(first_step):
    network, trace = first_step
    before = trace.value("z1").copy()
    network.step(LESSON_X, LESSON_T, "half-squared-error", gn.SGD(0.1))
    np.testing.assert_array_equal(trace.value("z1"), before)


def test_trace_off_returns_loss_float():
    network = lesson_network()
    value = network.step(LESSON_X, LESSON_T, "half-squared-error", gn.SGD(0.1))
    assert isinstance(value, float)
    assert value == pytest.approx(REFERENCE["L"], rel=1e-12)
