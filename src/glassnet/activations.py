"""Elementwise activation functions and their derivatives, numerically stable.

Every function accepts any finite input (magnitudes up to 1e308) without
overflow and without NumPy warnings other than underflow, which is exact here:
a result that underflows is the correctly rounded limit (0 or 1).

Derivatives are written as functions of whatever is cheapest: the sigmoid and
tanh derivatives from the activation's output ``a``, ReLU's from its input
``z``. ReLU's derivative at exactly ``z = 0`` is 0 (the same convention as
PyTorch and scikit-learn).
"""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._typing import AnyArray, FloatArray


# Arguments below which exp cannot overflow (log of the largest float is 709.78 and 88.72).
EXP_SAFE: dict[np.dtype[Any], float] = {np.dtype(np.float64): 709.0, np.dtype(np.float32): 88.0}
# Arrays up to this size are checked for overflow before exp instead of silencing it.
EXP_TEST_MAX_SIZE = 256


def largest_element(array: FloatArray) -> float:
    """Return the largest element of a non-empty array, or NaN when NaN comes first."""
    if array.size <= 8:
        return float(max(array.ravel().tolist()))
    return float(np.maximum.reduce(array, axis=None))


def sigmoid(z: ArrayLike, out: FloatArray | None = None) -> FloatArray:
    """Return ``1 / (1 + exp(-z))`` for any finite ``z``, written into ``out`` when given.

    For ``z`` below about -709 (float64) or -88.7 (float32) ``exp(-z)``
    overflows to inf and the result is ``1 / inf = 0``, the correctly rounded
    limit, so that overflow is silenced on purpose. Four or five NumPy calls,
    because this sits in the training loop of small networks.
    """
    if type(z) is not np.ndarray or z.dtype.kind != "f" or z.ndim == 0:
        z = np.asarray(z)
        if z.dtype.kind != "f":
            z = z.astype(np.float64)
        if z.ndim == 0:  # NumPy returns a scalar for 0-d input, which cannot take out=
            return sigmoid(z.reshape(1), None if out is None else out.reshape(1)).reshape(())
    e: FloatArray = np.negative(z, out=out)
    return sigmoid_from_negated(e, 1.0)


def sigmoid_from_negated(e: FloatArray, one: float | FloatArray) -> FloatArray:
    """Turn ``e = -z`` into ``1 / (1 + exp(e)) = sigmoid(z)`` in place and return it.

    ``one`` is 1, as a float or as a 0-d array of ``e``'s dtype. NumPy adds
    a 0-d array to a small array faster than a Python float, so a network's
    training pass passes one it made beforehand.
    """
    limit = EXP_SAFE.get(e.dtype)
    if limit is not None and 0 < e.size <= EXP_TEST_MAX_SIZE and largest_element(e) < limit:
        # No element can overflow, which one reduction over a small array shows faster
        # than np.errstate can be entered and left.
        np.exp(e, out=e)
    else:
        with np.errstate(over="ignore"):
            np.exp(e, out=e)
    e += one
    return np.reciprocal(e, out=e)


def row_reduce(ufunc: np.ufunc, a: FloatArray, keepdims: bool = False) -> FloatArray:
    """Return ``ufunc.reduce`` over the last axis of ``a``, such as each row's maximum or sum.

    NumPy reduces each row of a C-ordered array in an inner loop of its own,
    so for many short rows, as a classifier's 10 outputs over a batch, the
    loop overhead dominates. A 2-D array with few columns is copied
    transposed and reduced across its rows instead, whose inner loop runs
    over a whole batch: the row maxima of 1024 rows of 10 took 5 µs this
    way and 52 µs directly.
    """
    if a.ndim != 2 or a.shape[1] > SHORT_ROW or a.shape[0] < MANY_ROWS:
        return ufunc.reduce(a, axis=-1, keepdims=keepdims)  # type: ignore[no-any-return]
    reduced: FloatArray = ufunc.reduce(np.ascontiguousarray(a.T), axis=0)
    return reduced[:, np.newaxis] if keepdims else reduced


# Rows of at most SHORT_ROW elements in arrays of at least MANY_ROWS rows are reduced transposed.
SHORT_ROW = 32
MANY_ROWS = 16


def sigmoid_derivative_from_output(a: FloatArray) -> FloatArray:
    """Return ``sigmoid'(z) = a (1 - a)`` given ``a = sigmoid(z)``."""
    return a * (1.0 - a)


def tanh_derivative_from_output(a: FloatArray) -> FloatArray:
    """Return ``tanh'(z) = 1 - a**2`` given ``a = tanh(z)``."""
    return 1.0 - a * a


def relu(z: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """Return ``max(z, 0)``, written into ``out`` when given."""
    return np.maximum(z, 0.0, out=out)


def relu_derivative(z: FloatArray) -> FloatArray:
    """Return 1 where ``z > 0`` and 0 elsewhere, including at ``z = 0``."""
    return (z > 0).astype(z.dtype)


def leaky_relu(z: FloatArray, alpha: float) -> FloatArray:
    """Return ``z`` where ``z > 0`` and ``alpha * z`` elsewhere."""
    return np.where(z > 0, z, alpha * z)


def leaky_relu_derivative(z: FloatArray, alpha: float) -> FloatArray:
    """Return 1 where ``z > 0`` and ``alpha`` elsewhere, including at 0."""
    return np.where(z > 0, 1.0, alpha).astype(z.dtype)


def softplus(z: FloatArray) -> FloatArray:
    """Return ``log(1 + exp(z))`` as ``max(z, 0) + log1p(exp(-|z|))``."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def log_sigmoid(z: FloatArray) -> FloatArray:
    """Return ``log(sigmoid(z)) = -softplus(-z)``."""
    return -softplus(-z)


def log_softmax(z: ArrayLike) -> FloatArray:
    """Return ``log(softmax(z))`` along the last axis.

    The row maximum is subtracted first, so ``exp`` never overflows. When a row
    spans more than the float range (e.g. 1e308 and -1e308) the shifted value
    overflows to ``-inf``, whose exponential is exactly 0, so that overflow is
    silenced on purpose.
    """
    z = np.asarray(z)
    if z.size == 0:
        return np.empty_like(z)
    with np.errstate(over="ignore"):
        shifted: AnyArray = z - np.max(z, axis=-1, keepdims=True)
    log_sum: FloatArray = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))  # (..., 1)
    return shifted - log_sum


def softmax(z: ArrayLike, out: FloatArray | None = None) -> FloatArray:
    """Return ``exp(z) / sum(exp(z))`` along the last axis, shifted by the max."""
    z = np.asarray(z)
    if z.size == 0:
        return np.empty_like(z) if out is None else out
    with np.errstate(over="ignore"):
        shifted = z - np.max(z, axis=-1, keepdims=True)
    e: FloatArray = np.exp(shifted, out=out)
    e /= np.sum(e, axis=-1, keepdims=True)
    return e
