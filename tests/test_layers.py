import typing
import warnings

import numpy as np
import pytest

import glassnet as gn

X = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
UPSTREAM = np.array([[1, 0], [0, 1], [1, 1], [2, -1]])


def make_dense():
    return gn.Dense(3, 2, W=[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], b=[0.01, 0.02])


def test_dense_backward_reference():
    layer = make_dense()
    layer.forward(X.astype(float))
    grad_input = layer.backward(UPSTREAM)
    np.testing.assert_allclose(layer.grads["W"], [[28, 1], [32, 2], [36, 3]])
    np.testing.assert_allclose(layer.grads["b"], [4, 1])
    assert layer.grads["b"].shape == (2,)
    np.testing.assert_allclose(grad_input, [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6], [0.3, 0.7, 1.1], [0.0, 0.2, 0.4]],
                               atol=1e-15)


def test_dense_forward_reference():
    layer = make_dense()
    z = layer.forward(X.astype(float))
    np.testing.assert_allclose(z, X @ np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]) + [0.01, 0.02])


def test_dense_bias_column_rejected():
    with pytest.raises(ValueError, match=r"b has shape \(2, 1\); expected \(2,\)"):
        gn.Dense(3, 2, W=np.zeros((3, 2)), b=[[0.01], [0.02]])


def test_dense_weight_shape_rejected():
    with pytest.raises(ValueError, match=r"W has shape \(2, 3\); expected \(3, 2\)"):
        gn.Dense(3, 2, W=np.zeros((2, 3)))


def test_dense_integer_weights_stored_as_float():
    layer = gn.Dense(2, 1, W=[[1], [2]], b=[3])
    assert layer.params["W"].dtype == np.float64
    network = gn.Sequential([layer], dtype="float32")
    assert network.layers[0].params["W"].dtype == np.float32


def test_backward_overwrites_gradients():
    layer = make_dense()
    layer.forward(X.astype(float))
    layer.backward(UPSTREAM)
    first = layer.grads["W"].copy()
    layer.backward(UPSTREAM)
    np.testing.assert_array_equal(layer.grads["W"], first)


@pytest.mark.parametrize("layer", [gn.Dense(2, 2), gn.ReLU(), gn.Sigmoid(), gn.Tanh(), gn.Softmax(),
                                   gn.Identity(), gn.LeakyReLU(0.1)])
def test_backward_before_forward_raises(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2)))


def _numeric_input_gradient(layer, x, upstream, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (np.sum(layer.forward(plus) * upstream) - np.sum(layer.forward(minus) * upstream)) / (2 * eps)
    return grad


@pytest.mark.parametrize("layer", [gn.ReLU(), gn.Sigmoid(), gn.Tanh(), gn.Softmax(), gn.Identity(),
                                   gn.LeakyReLU(0.2)], ids=lambda layer: layer.kind)
@pytest.mark.parametrize("batch", [1, 4])
def test_activation_backward_matches_finite_differences(layer, batch):
    rng = np.random.default_rng(batch)
    x = rng.normal(size=(batch, 3))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the ReLU kink
    upstream = rng.normal(size=(batch, 3))
    numeric = _numeric_input_gradient(layer, x, upstream)
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(upstream), numeric, rtol=1e-6, atol=1e-9)


def test_activation_zero_upstream_gives_zero():
    for layer in [gn.ReLU(), gn.Sigmoid(), gn.Tanh(), gn.Softmax()]:
        layer.forward(np.ones((2, 3)))
        assert not np.any(layer.backward(np.zeros((2, 3))))


def test_dense_glorot_seeded_and_global_state_untouched():
    np.random.seed(5)
    expected_draw = np.random.rand()
    np.random.seed(5)
    first = gn.Dense(4, 3, seed=1).params["W"]
    second = gn.Dense(4, 3, seed=1).params["W"]
    assert np.random.rand() == expected_draw
    np.testing.assert_array_equal(first, second)
    assert np.abs(first).max() <= np.sqrt(6 / 7)


def test_he_initialiser_scale():
    W = gn.Dense(1000, 50, init="he_normal", seed=0).params["W"]
    assert W.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.05)


def test_initializer_type_hints_resolve_anywhere():
    from glassnet.initializers import Initializer

    # Code that annotates with Initializer, in a module that has not imported NumPy as np.
    namespace = {}
    exec("from glassnet.initializers import Initializer\ndef make(init: Initializer) -> None: ...", namespace)
    hints = typing.get_type_hints(namespace["make"])
    assert hints["init"] is Initializer
    call_hints = typing.get_type_hints(Initializer.__call__)
    assert call_hints["rng"] is np.random.Generator


def test_custom_initializer_draws_from_seed():
    def ones_plus_draw(fan_in, fan_out, rng):
        return np.ones((fan_in, fan_out)) + rng.random()

    W = gn.Dense(2, 3, init=ones_plus_draw, seed=4).params["W"]
    np.testing.assert_array_equal(W, np.ones((2, 3)) + np.random.default_rng(4).random())


def test_unknown_initialiser_lists_valid():
    with pytest.raises(ValueError, match="he_uniform"):
        gn.Dense(2, 2, init="orthogonal")


def test_unknown_activation_lists_valid():
    with pytest.raises(ValueError, match="relu"):
        gn.layers.make_activation("swish")


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "3"])
def test_dense_size_rejected(size):
    with pytest.raises((ValueError, TypeError), match="in_features"):
        gn.Dense(size, 2)


@pytest.mark.parametrize("layer", [gn.ReLU(), gn.Sigmoid(), gn.Tanh(), gn.Identity(), gn.LeakyReLU(0.1)])
def test_local_derivative_before_forward_raises(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.local_derivative()


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("out_dtype", [np.float32, np.float64])
def test_dense_writes_into_any_out_array(order, out_dtype):
    layer = gn.Dense(3, 2, W=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], b=[0.5, -0.5])
    x = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    out = np.zeros((2, 2), dtype=out_dtype, order=order)
    result = layer.forward(x, out=out)
    assert result is out
    np.testing.assert_array_equal(out, [[-3.5, -4.5], [5.5, 7.5]])
    grad_in = np.zeros((2, 3), dtype=out_dtype, order=order)
    layer.backward(np.ones((2, 2)), out=grad_in)
    np.testing.assert_array_equal(grad_in, [[3.0, 7.0, 11.0]] * 2)


def test_bias_gradient_one_row_positive_zero():
    layer = gn.Dense(1, 2, W=[[1.0, 1.0]])
    layer.forward(np.array([[1.0]]))
    layer.backward(np.array([[-0.0, 1.0]]))
    assert not np.signbit(layer.grads["b"][0])


@pytest.mark.parametrize("base", [gn.ReLU, gn.Sigmoid, gn.layers.Identity])
def test_subclass_local_derivative_drives_backward(base):
    class Doubled(base):
        """Reports twice the base derivative, which backward and training must use."""

        def local_derivative(self):
            return 2.0 * super().local_derivative()

    layer = Doubled()
    z = np.array([[-1.0, 0.5, 2.0]])
    layer.forward(z)
    grad = np.array([[0.3, -0.2, 0.7]])
    np.testing.assert_array_equal(layer.backward(grad), grad * layer.local_derivative())
    network = gn.Sequential([gn.Dense(3, 3, seed=0), Doubled(), gn.Dense(3, 1, seed=1)])
    assert not gn.gradcheck(network, z, np.zeros((1, 1)), "mse").passed  # the doubled derivative is wrong


@pytest.mark.parametrize("shape", [(3, 4), (20, 10), (20, 40), (64, 3)],
                         ids=["few-rows", "short-rows", "long-rows", "many-rows"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_kernel_matches_forward(shape, dtype):
    # The planned pass's softmax must give forward's bits and caches, on either way of reducing rows,
    # and ignore the overflow of z - max z where a row spans more than the float range.
    rng = np.random.default_rng(5)
    z = (rng.standard_normal(shape) * 3).astype(dtype)
    z[0, 0] = np.finfo(dtype).max
    z[0, 1] = -np.finfo(dtype).max
    reference = gn.Softmax()
    expected = reference.forward(z.copy())
    planned = gn.Softmax()
    output = np.empty(shape, dtype=dtype)
    forward, _ = planned.training_kernels(output, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):  # the second call reuses every work array
            result = forward(z)
    assert result is output
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(planned.shifted, reference.shifted)
    np.testing.assert_array_equal(planned.log_sum, reference.log_sum)
    assert planned.z is z
    assert planned.a is output
