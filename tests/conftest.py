import contextlib

import numpy as np
import pytest

import glassnet as gn
from glassnet import _blas


def lesson_network(dtype="float64", hidden="relu"):
    """The 2-2-1 network of the classic lesson, with its given weights."""
    return gn.Sequential(
        [
            gn.Dense(2, 2, W=[[0.3, 0.4], [0.5, 0.6]], b=[0.1, 0.2]),
            gn.layers.make_activation(hidden),
            gn.Dense(2, 1, W=[[0.7], [0.8]], b=[0.3]),
            gn.Sigmoid(),
        ],
        dtype=dtype,
    )


class MixLayer(gn.layers.Layer):
    """``x · M`` with a square parameter M: a custom layer that is not elementwise."""

    kind = "mix"

    def __init__(self, width, seed=0):
        super().__init__()
        self.params = {"M": np.random.default_rng(seed).standard_normal((width, width))}
        self.grads = {"M": np.zeros((width, width))}

    def forward(self, x, out=None):
        self.x = x
        return np.matmul(x, self.params["M"], out=out)

    def backward(self, grad_output, out=None):
        self.grads["M"][...] = self.x.T @ grad_output
        return np.matmul(grad_output, self.params["M"].T, out=out)


class DoubledLoss:
    """Mixed in before a built-in loss: twice its value and gradient, defined through those two only."""

    def value(self, y, t):
        return 2.0 * super().value(y, t)

    def gradient(self, y, t):
        return 2.0 * super().gradient(y, t)


LESSON_X = np.array([[0.1, 0.2]])
LESSON_T = np.array([[1.0]])


@pytest.fixture
def lesson():
    return lesson_network()


def numpy_ships_openblas():
    """Return whether NumPy came with its wheel's OpenBLAS, whose axpy glassnet._blas must then find."""
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    return blas == "scipy-openblas" or bool(_blas._library_files())


@contextlib.contextmanager
def blas_updates():
    """Send every flat SGD update through the BLAS ``axpy``, however few parameters the network has.

    Skips the test where NumPy ships no OpenBLAS of its own, because glassnet updates in NumPy there.
    """
    saved = _blas.MIN_SIZE
    _blas.MIN_SIZE = 1
    try:
        if _blas.axpy_for(np.zeros(2)) is None:
            if numpy_ships_openblas():
                pytest.fail("NumPy's OpenBLAS axpy was not found; glassnet._blas cannot be tested here")
            pytest.skip("this NumPy ships no OpenBLAS of its own, so glassnet updates in NumPy")
        yield
    finally:
        _blas.MIN_SIZE = saved
