import warnings

import numpy as np
import pytest

from glassnet import activations as act

Z = np.array([0.12, 0.34, -1234.1, 1234.1, 0.0, 40.0, -40.0])


def test_sigmoid_reference_values():
    expected = [0.5299640517645717, 0.5841905229354074, 0.0, 1.0, 0.5, 1.0, 4.248354255291589e-18]
    with np.errstate(all="raise", under="ignore"):
        result = act.sigmoid(Z)
    np.testing.assert_allclose(result, expected, rtol=1e-15, atol=0)


def test_sigmoid_derivative_finite_when_saturated():
    with np.errstate(all="raise", under="ignore"):
        derivative = act.sigmoid_derivative_from_output(act.sigmoid(Z))
    assert np.all(np.isfinite(derivative))
    assert derivative[2] == 0.0
    assert derivative[3] == 0.0
    assert derivative[4] == 0.25


@pytest.mark.parametrize("function", [act.sigmoid, act.softplus, act.log_sigmoid, act.softmax, act.log_softmax])
def test_functions_never_overflow_at_float_limits(function):
    z = np.array([[1e308, -1e308, 0.0, 5e307, -5e307]])
    with np.errstate(all="raise", under="ignore"):
        result = function(z)
    assert not np.any(np.isnan(result))


def test_sigmoid_matches_formula_in_safe_range():
    z = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(act.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-14)


def test_softmax_extreme_row():
    np.testing.assert_array_equal(act.softmax(np.array([[-1047.0, -981.0, 1891.0]])), [[0.0, 0.0, 1.0]])


def test_softmax_shift_invariance():
    expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
    result = act.softmax(np.array([[1.0, 2.0, 3.0], [1001.0, 1002.0, 1003.0]]))
    np.testing.assert_allclose(result[0], expected, rtol=1e-15)
    np.testing.assert_allclose(result[1], expected, rtol=1e-15)


def test_softmax_empty_batch():
    result = act.softmax(np.empty((0, 3)))
    assert result.shape == (0, 3)


def test_relu_derivative_zero_at_zero():
    np.testing.assert_array_equal(act.relu_derivative(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])


def test_log_softmax_matches_log_of_softmax():
    z = np.random.default_rng(0).normal(size=(4, 5)) * 3
    np.testing.assert_allclose(act.log_softmax(z), np.log(act.softmax(z)), rtol=1e-12)


def test_softplus_no_warning_large_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert act.softplus(np.array([1000.0]))[0] == 1000.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_small_arrays_match_large(dtype):
    # Small arrays check for overflow with one reduction, large ones silence it: same values.
    values = np.array([-1e4, -800.0, -710.0, -100.0, -89.0, -5.0, 0.0, 5.0, 1e4], dtype=dtype)
    large = np.tile(values, 100)
    with np.errstate(all="raise", under="ignore"):
        small_result = act.sigmoid(values)
        large_result = act.sigmoid(large)
    np.testing.assert_array_equal(np.tile(small_result, 100), large_result)
    assert small_result[0] == 0.0
    assert small_result[-1] == 1.0


def test_sigmoid_of_scalar_is_zero_dimensional():
    result = act.sigmoid(0.0)
    assert result.shape == ()
    assert result == 0.5
    assert act.sigmoid(np.float32(-1e4)) == 0.0


@pytest.mark.parametrize("shape", [(1, 10), (15, 10), (16, 10), (1024, 10), (64, 32), (64, 33), (8, 3, 4), (0, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_reduce_matches_numpy(shape, dtype):
    values = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    for keepdims in (False, True):
        expected_max = np.maximum.reduce(values, axis=-1, keepdims=keepdims)
        maxima = act.row_reduce(np.maximum, values, keepdims=keepdims) if values.size else expected_max
        assert maxima.shape == expected_max.shape
        np.testing.assert_array_equal(maxima, expected_max)
        sums = act.row_reduce(np.add, values, keepdims=keepdims)
        assert sums.shape == np.add.reduce(values, axis=-1, keepdims=keepdims).shape
        # Only the order of the additions differs: bound the rounding by n · eps · Σ|row|.
        bound = values.shape[-1] * np.finfo(dtype).eps * np.add.reduce(np.abs(values), axis=-1, keepdims=keepdims)
        assert np.all(np.abs(sums - np.add.reduce(values, axis=-1, keepdims=keepdims)) <= bound)


def test_row_reduce_keeps_nan_and_inf():
    values = np.zeros((32, 10))
    values[3, 4] = np.nan
    values[7, 1] = np.inf
    maxima = act.row_reduce(np.maximum, values)
    assert np.isnan(maxima[3])
    assert maxima[7] == np.inf
    assert np.isnan(act.row_reduce(np.add, values)[3])
