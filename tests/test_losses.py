import numpy as np
import pytest

import glassnet as gn
from conftest import DoubledLoss
from glassnet import losses


def test_bce_from_logit_40_target_0():
    network = gn.Sequential([gn.Dense(1, 1, W=[[1.0]], b=[0.0]), gn.Sigmoid()])
    with np.errstate(all="raise", under="ignore"):
        network.loss_and_backward(np.array([[40.0]]), np.array([[0.0]]), losses.BinaryCrossEntropy())
        value = losses.BinaryCrossEntropy().value_from_logits(np.array([[40.0]]), np.array([[0.0]]))
    assert value == 40.0
    # dL/dz = y - t = 1.0 and dL/dW = x · dL/dz = 40.
    assert network.layers[0].grads["b"][0] == 1.0


def test_bce_from_logit_minus_40_target_1():
    value = losses.BinaryCrossEntropy().value_from_logits(np.array([[-40.0]]), np.array([[1.0]]))
    assert value == 40.0


def test_bce_on_probabilities_is_clipped_not_infinite():
    value = losses.BinaryCrossEntropy().value(np.zeros((3, 1)), np.ones((3, 1)))
    assert value == pytest.approx(34.538776394910684, rel=1e-15)


def test_softmax_cross_entropy_extreme_logits():
    network = gn.Sequential([gn.Dense(3, 3, W=np.eye(3), b=np.zeros(3)), gn.Softmax()])
    loss = losses.CategoricalCrossEntropy()
    with np.errstate(all="raise", under="ignore"):
        value = network.loss_and_backward(np.array([[-431.0, 279.0, 427.0]]), loss.prepare_targets(
            np.array([0]), (1, 3), np.float64), loss)
    assert value == 858.0
    np.testing.assert_allclose(network.layers[0].grads["b"], [-1.0, 5.301718666092324e-65, 1.0], rtol=1e-12)


def test_categorical_labels_become_one_hot():
    t = losses.CategoricalCrossEntropy().prepare_targets(np.array([2, 0]), (2, 3), np.float64)
    np.testing.assert_array_equal(t, [[0, 0, 1], [1, 0, 0]])


def test_categorical_label_out_of_range_rejected():
    with pytest.raises(ValueError, match="labels must be in 0..2"):
        losses.CategoricalCrossEntropy().prepare_targets(np.array([3]), (1, 3), np.float64)


def test_half_squared_error_mean_over_elements():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = np.zeros((2, 2))
    loss = losses.HalfSquaredError()
    assert loss.value(y, t) == pytest.approx(0.5 * 30 / 4)
    np.testing.assert_allclose(loss.gradient(y, t), y / 4)


def test_sum_reduction_gives_total_error():
    y = np.array([[0.75136507, 0.772928465]])
    t = np.array([[0.01, 0.99]])
    loss = losses.HalfSquaredError(reduction="sum")
    assert loss.value(y, t) == pytest.approx(0.298371109, rel=1e-8)


def test_mse_gradient_is_twice_half_squared():
    rng = np.random.default_rng(1)
    y, t = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(losses.MeanSquaredError().gradient(y, t),
                               2 * losses.HalfSquaredError().gradient(y, t))


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="binary-cross-entropy"):
        gn.get_loss("hinge")


def test_unknown_reduction_rejected():
    with pytest.raises(ValueError, match="reduction='avg'"):
        losses.HalfSquaredError(reduction="avg")


def test_bce_targets_outside_unit_interval_rejected():
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        losses.BinaryCrossEntropy().prepare_targets(np.array([[2.0]]), (1, 1), np.float64)


def test_target_shape_mismatch_rejected():
    with pytest.raises(ValueError, match=r"targets have shape \(2, 2\)"):
        losses.HalfSquaredError().prepare_targets(np.zeros((2, 2)), (2, 1), np.float64)


def test_unfused_loss_value_from_logits_raises():
    z = np.zeros((2, 1))
    with pytest.raises(NotImplementedError, match="half-squared-error has no fused form"):
        losses.HalfSquaredError().value_from_logits(z, z)


def test_base_loss_value_and_gradient_raise():
    y = np.zeros((2, 1))
    with pytest.raises(NotImplementedError):
        losses.Loss().value(y, y)
    with pytest.raises(NotImplementedError):
        losses.Loss().gradient(y, y)


def test_bce_value_from_logits_ignores_softmax_cache():
    loss = losses.BinaryCrossEntropy()
    z = np.array([[-2.0], [0.5], [3.0]])
    t = np.array([[0.0], [1.0], [1.0]])
    cache = np.full((3, 1), 100.0)
    assert loss.value_from_logits(z, t, shifted=cache, log_sum=cache) == loss.value_from_logits(z, t)


class _DoubledHalfSquaredError(DoubledLoss, losses.HalfSquaredError):
    """Twice the half squared error, defined through value and gradient only."""


class _DoubledMeanSquaredError(DoubledLoss, losses.MeanSquaredError):
    """Twice the mean squared error, defined through value and gradient only."""


@pytest.mark.parametrize("loss_class", [_DoubledHalfSquaredError, _DoubledMeanSquaredError])
def test_squared_error_subclass_value_and_gradient(loss_class):
    loss = loss_class()
    base = loss_class.__bases__[-1]()  # the built-in loss after the mixin
    y = np.array([[0.5, -1.0], [2.0, 0.25]])
    t = np.array([[0.0, 1.0], [1.5, 0.0]])
    value, grad = loss.value_and_gradient(y.copy(), t)
    assert value == pytest.approx(2.0 * base.value(y, t), rel=1e-15)
    np.testing.assert_allclose(grad, 2.0 * base.gradient(y, t), rtol=1e-15)


@pytest.mark.parametrize("loss_class", [_DoubledHalfSquaredError, _DoubledMeanSquaredError])
def test_squared_error_subclass_trains_with_own_math(loss_class):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 3))
    t = rng.standard_normal((5, 2))
    network = gn.mlp([3, 4, 2], activation="tanh", seed=0, dtype="float64")
    y = network.predict(X)
    expected = 2.0 * loss_class.__bases__[-1]().value(y, t)  # the built-in loss after the mixin
    untraced = network.copy()
    assert untraced.step(X, t, loss_class(), gn.SGD(0.1)) == pytest.approx(expected, rel=1e-12)
    assert network.step(X, t, loss_class(), gn.SGD(0.1), trace=True).loss == pytest.approx(expected, rel=1e-12)
    for (name, traced), (_, plain) in zip(network.parameters(), untraced.parameters()):
        np.testing.assert_array_equal(traced, plain, err_msg=name)
