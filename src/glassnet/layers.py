"""Layers: a Dense (affine) layer and elementwise activation layers.

Contract shared by every layer:

* ``forward(x)`` takes ``x`` of shape (batch, in_features), caches in named
  attributes exactly what ``backward`` needs and returns the output of shape
  (batch, out_features).
* ``backward(grad_output)`` takes dL/d(output) of the output's shape, writes
  the gradient of every entry of ``params`` into ``grads`` under the same name
  (overwriting, never accumulating) and returns dL/d(input).
* Calling ``backward``, or an activation's ``local_derivative``, before
  ``forward`` raises ``RuntimeError``.
* Both take an optional ``out`` array of the result's shape and dtype to write
  into, as NumPy ufuncs do. Without it the result is a new array. The
  network's training step passes work arrays it reuses from step to step, so
  after a step the layers' cached ``x``, ``z`` and ``a`` are views of those
  arrays and the next step overwrites them; ``Sequential.forward`` and
  ``predict`` never pass ``out`` and return new arrays.

Trace symbols (``z1``, ``a1``, ``delta1``...) are assigned by the network that
owns the layer; a layer used on its own has none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, TypeAlias, TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import activations as act
from ._buffers import aligned_empty
from ._typing import FloatArray, JSONDict
from .errors import InvalidInputError, InvalidTypeError
from .initializers import Initializer, as_generator, get_initializer
from .validation import physical_memory_bytes

_Cached = TypeVar("_Cached")

# A layer's functions for a network's planned training pass (see Layer.training_kernels):
# forward(x) -> output, and backward(dL/d(output)) -> dL/d(input) or None.
Kernels: TypeAlias = tuple[Callable[[FloatArray], FloatArray], Callable[[FloatArray], FloatArray | None]]


class Layer:
    """Base class: no parameters, symbols filled in by :class:`~glassnet.Sequential`."""

    kind = "layer"
    has_params = False

    def __init__(self) -> None:
        self.params: dict[str, FloatArray] = {}
        self.grads: dict[str, FloatArray] = {}
        self.name = self.kind
        self.number = 0
        self.symbols: dict[str, str] = {}
        self.training = True

    def forward(self, x: FloatArray, out: FloatArray | None = None) -> FloatArray:
        raise NotImplementedError

    def backward(self, grad_output: FloatArray, out: FloatArray | None = None) -> FloatArray | None:
        """Return dL/d(input), or None from a layer that skips it (a network's first Dense layer)."""
        raise NotImplementedError

    def training_kernels(self, output: FloatArray, input_grad: FloatArray | None) -> Kernels:
        """Return ``(forward, backward)`` for a network's planned training pass.

        ``forward(x)`` writes this layer's output into ``output`` and
        ``backward(grad)`` computes dL/d(input). Every layer but Dense keeps
        its input's shape, so its backward writes dL/d(input) over ``grad``
        and ``input_grad`` is None. The network builds these once per batch size,
        and again when a parameter or gradient array is replaced, so they may
        hold the layer's arrays and constants made beforehand. They must set
        the same caches as :meth:`forward` and compute the same numbers.
        This default calls :meth:`forward` and :meth:`backward`.
        """
        forward_method = self.forward
        backward_method = self.backward

        def forward(x: FloatArray) -> FloatArray:
            return forward_method(x, output)

        def backward(grad: FloatArray) -> FloatArray | None:
            return backward_method(grad, grad)

        return forward, backward

    def _require_forward(self, cached: _Cached | None) -> _Cached:
        """Return ``cached``, an attribute that forward sets, or raise if forward has not run."""
        if cached is None:
            raise RuntimeError(
                f"{self.name}.backward() or local_derivative() was called before forward(); "
                "run forward on a batch first"
            )
        return cached

    def astype(self, dtype: DTypeLike) -> Self:
        """Convert parameters and gradient buffers to ``dtype`` in place."""
        for key, value in self.params.items():
            self.params[key] = value.astype(dtype, copy=False)
            self.grads[key] = np.zeros_like(self.params[key])
        return self

    def config(self) -> JSONDict:
        """Return the constructor arguments as JSON-ready builtins (no parameters)."""
        return {"type": self.kind}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({arguments})"


def _as_parameter(value: ArrayLike, shape: tuple[int, ...], argument: str, dtype: DTypeLike) -> FloatArray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise InvalidTypeError(
            f"{argument} has dtype {array.dtype}; expected numbers (int or float) of shape {shape}"
        )
    if array.shape != shape:
        if argument == "b":
            rule = "A bias must be 1-D with one entry per output unit; it is never broadcast"
        else:
            rule = "W has one row per input and one column per output unit: (in_features, out_features)"
        raise InvalidInputError(f"{argument} has shape {array.shape}; expected {shape}. {rule}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{argument} contains NaN or inf; give finite initial values")
    return np.array(array, dtype=dtype, copy=True)


def _check_size(value: object, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(f"{argument}={value!r} must be an integer >= 1")
    if value < 1:
        raise InvalidInputError(f"{argument}={value} must be >= 1")
    return int(value)


class Dense(Layer):
    """Affine layer ``z = x · W + b``.

    Parameters
    ----------
    in_features, out_features : int
    W : array-like of shape (in_features, out_features), optional
        Explicit initial weights (any numeric dtype). Note that PyTorch's
        ``nn.Linear.weight`` stores the transpose, of shape (out, in).
    b : array-like of shape (out_features,), optional
        Explicit initial bias; zeros when W is drawn at random.
    init : str
        Initialiser for W when it is not given: ``glorot_uniform`` (default),
        ``glorot_normal``, ``he_uniform``, ``he_normal`` or ``zeros``.
    seed : int, numpy.random.Generator or None
        Source of the random initial weights.
    dtype : numpy dtype
        Float dtype of the parameters (a network converts to its own dtype).

    Forward:  z = x · W + b, x of shape (batch, in), z of shape (batch, out).
    Backward: with delta = dL/dz,
        dW = xᵀ · delta      of shape (in, out)
        db = Σ_batch delta   of shape (out,)
        dL/dx = delta · Wᵀ   of shape (batch, in)
    Caches ``x``.
    """

    kind = "dense"
    has_params = True

    def __init__(self, in_features: int, out_features: int, *, W: ArrayLike | None = None,
                 b: ArrayLike | None = None, init: str | Initializer = "glorot_uniform",
                 seed: int | np.integer[Any] | np.random.Generator | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        self.in_features = _check_size(in_features, "in_features")
        self.out_features = _check_size(out_features, "out_features")
        self.init = init
        shape = (self.in_features, self.out_features)
        available = physical_memory_bytes()
        if available is not None and 8 * self.in_features * self.out_features > available:
            raise InvalidInputError(
                f"Dense({self.in_features}, {self.out_features}) needs "
                f"{8 * self.in_features * self.out_features / 2**30:.1f} GiB for W, more than this machine's "
                f"{available / 2**30:.1f} GiB of memory; use fewer units"
            )
        if W is None:
            W = get_initializer(init)(self.in_features, self.out_features, as_generator(seed))
        self.params["W"] = _as_parameter(W, shape, "W", dtype)
        if b is None:
            b = np.zeros(self.out_features)
        self.params["b"] = _as_parameter(b, (self.out_features,), "b", dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.x: FloatArray | None = None
        # The first layer of a network never needs dL/dx; skipping it saves a matmul.
        self.compute_input_grad = True

    def config(self) -> JSONDict:
        return {"type": self.kind, "in_features": self.in_features,
                "out_features": self.out_features, "init": self.init if isinstance(self.init, str) else "custom"}

    def forward(self, x: FloatArray, out: FloatArray | None = None) -> FloatArray:
        W = self.params["W"]
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise InvalidInputError(
                f"{self.name} input has shape {x.shape}; expected (batch, {self.in_features})"
            )
        if x.dtype != W.dtype:
            x = x.astype(W.dtype)
        return self.forward_checked(x, out)

    def forward_checked(self, x: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Run :meth:`forward` on an input known to have the right shape and dtype.

        The network's planned training pass calls this, because it prepares
        every input itself, and small networks spend most of a step on checks.
        """
        self.x = x
        z = _product(x, self.params["W"], out)  # (batch, in) · (in, out) -> (batch, out)
        z += self.params["b"]
        return z

    def backward(self, grad_output: FloatArray, out: FloatArray | None = None) -> FloatArray | None:
        self._require_forward(self.x)
        return self.backward_checked(np.asarray(grad_output, dtype=self.params["W"].dtype), out)

    def backward_checked(self, delta: FloatArray, out: FloatArray | None = None) -> FloatArray | None:
        """Run :meth:`backward` after a forward pass, on a ``delta`` of the parameters' dtype."""
        x: FloatArray = self.x  # type: ignore[assignment]  # set by the forward pass the caller ran
        W = self.params["W"]
        _product(x.T, delta, self.grads["W"])  # (in, batch) · (batch, out)
        rows = delta.shape[0]
        if rows == 1:
            # The sum over a batch of one row: 0 + row, so that -0.0 sums to +0.0 as in np.sum.
            np.add(delta[0], 0.0, out=self.grads["b"])
        else:
            np.matmul(_ones(rows, delta.dtype), delta, out=self.grads["b"])  # (batch,) · (batch, out)
        if not self.compute_input_grad:
            return None
        return _product(delta, W.T, out)  # (batch, out) · (out, in)

    def training_kernels(self, output: FloatArray, input_grad: FloatArray | None) -> Kernels:
        """Return the planned pass's functions: the math of the checked methods, with arrays bound.

        The network makes the work arrays, so the functions skip the
        argument checks. A custom layer next to this one may still pass an
        input or a delta of another dtype. np.dot rejects it with a
        ValueError, and then the checked method runs instead, whose
        :func:`_product` falls back to np.matmul. The bias is added as a
        (1, out) view, because NumPy broadcasts a 1-D operand over a small
        2-D array at twice the cost. A subclass gets its own methods
        called, and the checked ones unless it overrides forward or
        backward.
        """
        arrays = (*self.params.values(), *self.grads.values())
        if type(self) is not Dense or any(array.dtype != output.dtype for array in arrays):
            # A subclass, or arrays that code replaced with others of another dtype.
            cls = type(self)
            forward_method = self.forward_checked if cls.forward is Dense.forward else self.forward
            backward_method = self.backward_checked if cls.backward is Dense.backward else self.backward

            def forward_call(x: FloatArray) -> FloatArray:
                return forward_method(x, output)

            def backward_call(delta: FloatArray) -> FloatArray | None:
                return backward_method(delta, input_grad)

            return forward_call, backward_call

        W = self.params["W"]
        W_T = W.T
        bias_row = self.params["b"].reshape(1, -1)
        grad_W = self.grads["W"]
        grad_bias = self.grads["b"]
        grad_bias_row = grad_bias.reshape(1, -1)
        zero = np.zeros((), output.dtype)
        rows = output.shape[0]
        width = self.in_features
        forward_product = _product_function(rows * width + W.size, output)
        weight_product = _product_function(rows * width + output.size, grad_W)
        input_product = _product_function(output.size + W.size, input_grad)
        ones = _ones(rows, output.dtype)
        add = np.add
        matmul = np.matmul
        forward_checked = self.forward_checked
        backward_checked = self.backward_checked

        def forward(x: FloatArray) -> FloatArray:
            self.x = x
            try:
                forward_product(x, W, out=output)  # (batch, in) · (in, out)
            except ValueError:
                return forward_checked(x, output)  # x of another dtype
            return add(output, bias_row, out=output)

        def backward(delta: FloatArray) -> FloatArray | None:
            x: FloatArray = self.x  # type: ignore[assignment]  # set by forward in the same pass
            try:
                weight_product(x.T, delta, out=grad_W)  # (in, batch) · (batch, out)
                if rows == 1:
                    add(delta, zero, out=grad_bias_row)  # 0 + row, so that -0.0 sums to +0.0 as in np.sum
                else:
                    matmul(ones, delta, out=grad_bias)  # (batch,) · (batch, out)
                if input_grad is None:
                    return None
                return input_product(delta, W_T, out=input_grad)  # (batch, out) · (out, in)
            except ValueError:
                return backward_checked(delta, input_grad)  # x or delta of another dtype

        return forward, backward


def _ones(rows: int, dtype: np.dtype[Any]) -> FloatArray:
    """Return a read-only vector of ``rows`` ones, with which a bias gradient sums a batch.

    ``ones · delta`` runs in the BLAS: for a batch of 1024 rows of 256
    float32 values it took 13 µs against 35 µs for ``np.add.reduce`` over
    axis 0. The vectors of the last few batch sizes are kept.
    """
    key = (rows, dtype)
    vector = _ONES.get(key)
    if vector is None:
        if len(_ONES) >= 8:
            _ONES.clear()
        vector = _ONES[key] = np.ones(rows, dtype=dtype)
        vector.flags.writeable = False
    return vector


_ONES: dict[tuple[int, np.dtype[Any]], FloatArray] = {}


def _product_function(operand_size: int, out: FloatArray | None) -> Callable[..., FloatArray]:
    """Return np.dot or np.matmul for a product of operands with this many elements into ``out``.

    The choice :func:`_product` makes per call, made once for a planned
    pass whose operands and ``out`` have one dtype.
    """
    if operand_size > _SMALL_PRODUCT or out is None or not out.flags.c_contiguous:
        return np.matmul
    return np.dot


def _product(a: FloatArray, b: FloatArray, out: FloatArray | None) -> FloatArray:
    """Return the matrix product ``a · b``, written into ``out`` when given.

    np.dot costs less per call than np.matmul, which matters in small
    networks, but np.matmul reaches the BLAS faster for large operands,
    transposed ones above all (``xᵀ · delta`` at batch 32 took 0.6 of
    np.dot's time). np.dot also accepts only an ``out`` of the exact result
    dtype in C order. Any other ``out`` goes to np.matmul, which casts as
    ufuncs do.
    """
    if a.size + b.size > _SMALL_PRODUCT:
        return np.matmul(a, b, out=out)
    try:
        return np.dot(a, b, out=out)
    except ValueError:
        if out is None:
            raise
        return np.matmul(a, b, out=out)


# Operands with at most this many elements together are multiplied with np.dot.
_SMALL_PRODUCT = 1024


class Activation(Layer):
    """Elementwise activation ``a = f(z)``; backward is ``delta = dL/da ⊙ f'(z)``."""

    kind = "activation"
    formula = "f(z)"
    derivative_formula = "f'(z)"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # ReLU, Sigmoid and Identity compute their derivative inside backward, for speed. A subclass
        # (or a mixin) that replaces local_derivative below that backward gets this class's, which calls it.
        owner = next(base for base in cls.__mro__ if "backward" in vars(base))
        if cls.local_derivative is not getattr(owner, "local_derivative"):
            cls.backward = Activation.backward  # type: ignore[method-assign]

    def __init__(self) -> None:
        super().__init__()
        self.z: FloatArray | None = None
        self.a: FloatArray | None = None

    def local_derivative(self) -> FloatArray:
        """Return f'(z) for the cached batch, of the output's shape.

        Raises ``RuntimeError`` before forward has run.
        """
        raise NotImplementedError

    def backward(self, grad_output: FloatArray, out: FloatArray | None = None) -> FloatArray:
        # local_derivative checks that forward has run, so the check is not repeated here.
        return np.multiply(grad_output, self.local_derivative(), out=out)


class ReLU(Activation):
    """``a = max(z, 0)``; ``ReLU'(z) = 1 if z > 0 else 0`` (0 at exactly 0). Caches z.

    In a network's planned training pass ``a`` is written over ``z``, so
    afterwards ``z`` is the same array as ``a``. :func:`~glassnet.training.fit`
    and ``Sequential.step`` run that pass unless a traced step has an L2
    penalty or a layer's forward or backward takes no ``out`` argument.
    The derivative does not change, because ``a > 0`` exactly where
    ``z > 0``. A trace keeps a copy of z taken before. A subclass of ReLU,
    and a ReLU after any Dense subclass, keep z in an array of its own.
    """

    kind = "relu"
    formula = "max(0, z)"
    derivative_formula = "1 if z > 0 else 0"

    def forward(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self.z = z
        a: FloatArray = np.maximum(z, 0.0, out=out)  # act.relu, called directly in this hot path
        self.a = a
        return a

    def local_derivative(self) -> FloatArray:
        return act.relu_derivative(self._require_forward(self.z))

    def backward(self, grad_output: FloatArray, out: FloatArray | None = None) -> FloatArray:
        z = self.z
        if z is None:
            z = self._require_forward(z)  # raises
        return np.multiply(grad_output, z > 0.0, out=out)

    def training_kernels(self, output: FloatArray, input_grad: FloatArray | None) -> Kernels:
        """Return the planned pass's functions, comparing with a 0-d zero into a mask made beforehand.

        NumPy compares a small array with a 0-d array of its dtype faster
        than with a Python float. A subclass gets its own methods called.
        """
        if type(self) is not ReLU:
            return super().training_kernels(output, input_grad)
        zero = np.zeros((), output.dtype)
        positive = aligned_empty(output.shape, np.dtype(np.bool_))
        maximum = np.maximum
        greater = np.greater
        multiply = np.multiply

        def forward(z: FloatArray) -> FloatArray:
            self.z = z
            a: FloatArray = maximum(z, zero, out=output)
            self.a = a
            return a

        def backward(grad: FloatArray) -> FloatArray:
            z: FloatArray = self.z  # type: ignore[assignment]  # set by forward in the same pass
            greater(z, zero, out=positive)
            return multiply(grad, positive, out=grad)

        return forward, backward


class LeakyReLU(Activation):
    """``a = z if z > 0 else alpha·z``; derivative 1 or alpha (alpha at 0). Caches z."""

    kind = "leaky_relu"
    derivative_formula = "1 if z > 0 else alpha"

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)):
            raise InvalidTypeError(f"alpha={alpha!r} must be a number in [0, 1)")
        if not (0.0 <= float(alpha) < 1.0):
            raise InvalidInputError(f"alpha={alpha!r} must be in [0, 1); typical values are 0.01 to 0.3")
        self.alpha = float(alpha)
        self.formula = f"z if z > 0 else {self.alpha:g}·z"

    def config(self) -> JSONDict:
        return {"type": self.kind, "alpha": self.alpha}

    def forward(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self.z = z
        a = act.leaky_relu(z, self.alpha).astype(z.dtype, copy=False)
        if out is not None:
            np.copyto(out, a)
            a = out
        self.a = a
        return a

    def local_derivative(self) -> FloatArray:
        return act.leaky_relu_derivative(self._require_forward(self.z), self.alpha)


class Sigmoid(Activation):
    """``a = 1 / (1 + exp(-z))``; ``sigmoid'(z) = a(1 - a)``, from the cached output."""

    kind = "sigmoid"
    formula = "1 / (1 + exp(-z))"
    derivative_formula = "y(1 - y)"

    def forward(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self.z = z
        self.a = act.sigmoid(z, out=out)
        return self.a

    def local_derivative(self) -> FloatArray:
        return act.sigmoid_derivative_from_output(self._require_forward(self.a))

    def backward(self, grad_output: FloatArray, out: FloatArray | None = None) -> FloatArray:
        # grad · a(1 - a), as local_derivative computes it, without its two calls: small networks
        # spend most of a step on calls.
        a = self.a
        if a is None:
            a = self._require_forward(a)  # raises
        derivative = np.subtract(1.0, a)
        derivative *= a
        return np.multiply(grad_output, derivative, out=out)

    def training_kernels(self, output: FloatArray, input_grad: FloatArray | None) -> Kernels:
        """Return the planned pass's functions, with the constant 1 and the derivative's array made beforehand.

        A subclass gets its own methods called.
        """
        if type(self) is not Sigmoid:
            return super().training_kernels(output, input_grad)
        one = np.ones((), output.dtype)
        derivative = aligned_empty(output.shape, output.dtype)
        negative = np.negative
        subtract = np.subtract
        multiply = np.multiply
        exp = np.exp
        add = np.add
        reciprocal = np.reciprocal
        errstate = np.errstate
        largest = act.largest_element
        # The steps of activations.sigmoid_from_negated, with its size test made once for the plan.
        limit = act.EXP_SAFE.get(output.dtype, 0.0)
        test_first = output.dtype in act.EXP_SAFE and 0 < output.size <= act.EXP_TEST_MAX_SIZE

        def forward(z: FloatArray) -> FloatArray:
            self.z = z
            e = negative(z, out=output)
            if test_first and largest(e) < limit:
                exp(e, out=e)
            else:
                with errstate(over="ignore"):
                    exp(e, out=e)
            add(e, one, out=e)
            a = reciprocal(e, out=e)
            self.a = a
            return a

        def backward(grad: FloatArray) -> FloatArray:
            a: FloatArray = self.a  # type: ignore[assignment]  # set by forward in the same pass
            subtract(one, a, out=derivative)
            multiply(derivative, a, out=derivative)
            return multiply(grad, derivative, out=grad)

        return forward, backward


class Tanh(Activation):
    """``a = tanh(z)``; ``tanh'(z) = 1 - a²``, from the cached output."""

    kind = "tanh"
    formula = "tanh(z)"
    derivative_formula = "1 - a²"

    def forward(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self.z = z
        self.a = np.tanh(z, out=out)
        return self.a

    def local_derivative(self) -> FloatArray:
        return act.tanh_derivative_from_output(self._require_forward(self.a))


class Softmax(Activation):
    """``a_i = exp(z_i) / Σ_j exp(z_j)`` per row.

    Its Jacobian is not diagonal, so backward is
    ``delta = (g - Σ_j g_j a_j) ⊙ a`` with ``g = dL/da``. Followed by
    categorical cross-entropy the network fuses both into ``delta = (y - t)/N``.

    Besides z and a, forward caches the shifted logits ``z - max_j z_j`` and
    ``log Σ_j exp(z_j - max_j z_j)`` per row, from which the fused loss takes
    log-softmax without computing the exponentials again.
    """

    kind = "softmax"
    formula = "exp(z) / Σ exp(z)"
    derivative_formula = "diag(a) - a aᵀ"

    def __init__(self) -> None:
        super().__init__()
        self.shifted: FloatArray | None = None
        self.log_sum: FloatArray | None = None

    def forward(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self.z = z
        if z.size == 0:
            self.shifted = self.log_sum = None
            self.a = act.softmax(z, out=out)
            return self.a
        # The shifted logits are a private cache, so their array is reused when the shape allows.
        shifted = self.shifted
        if shifted is None or shifted.shape != z.shape or shifted.dtype != z.dtype:
            shifted = aligned_empty(z.shape, z.dtype)
        with np.errstate(over="ignore"):
            shifted = np.subtract(z, act.row_reduce(np.maximum, z, keepdims=True), out=shifted)
        e: FloatArray = np.exp(shifted, out=out)
        row_sum = act.row_reduce(np.add, e, keepdims=True)  # (batch, 1)
        e /= row_sum
        self.shifted = shifted
        self.log_sum = np.log(row_sum)
        self.a = e
        return e

    def training_kernels(self, output: FloatArray, input_grad: FloatArray | None) -> Kernels:
        """Return the planned pass's functions: :meth:`forward` with every array made beforehand.

        The row maxima and sums are reduced as :func:`activations.row_reduce`
        does, on a transposed copy for many short rows, so the values are
        the same bits as forward's. A subclass gets its own methods called.
        """
        if type(self) is not Softmax or output.ndim != 2 or output.size == 0:
            return super().training_kernels(output, input_grad)
        rows, width = output.shape
        dtype = output.dtype
        shifted = aligned_empty(output.shape, dtype)
        row_max = aligned_empty((rows, 1), dtype)
        row_sum = aligned_empty((rows, 1), dtype)
        log_sum = aligned_empty((rows, 1), dtype)
        transposed = width <= act.SHORT_ROW and rows >= act.MANY_ROWS
        # The transposed copy, reduced across its rows; unused for rows that are reduced directly.
        columns = aligned_empty((width, rows) if transposed else (0, 0), dtype)
        max_of_columns = row_max.reshape(rows)
        sum_of_columns = row_sum.reshape(rows)
        copyto, subtract, exp, divide, log = np.copyto, np.subtract, np.exp, np.divide, np.log
        maximum, add = np.maximum, np.add
        errstate = np.errstate
        backward_method = self.backward

        def forward(z: FloatArray) -> FloatArray:
            self.z = z
            if transposed:
                copyto(columns, z.T)
                maximum.reduce(columns, axis=0, out=max_of_columns)
            else:
                maximum.reduce(z, axis=-1, keepdims=True, out=row_max)
            with errstate(over="ignore"):
                subtract(z, row_max, out=shifted)
            exp(shifted, out=output)
            if transposed:
                copyto(columns, output.T)
                add.reduce(columns, axis=0, out=sum_of_columns)
            else:
                add.reduce(output, axis=-1, keepdims=True, out=row_sum)
            divide(output, row_sum, out=output)
            self.shifted = shifted
            self.log_sum = log(row_sum, out=log_sum)
            self.a = output
            return output

        def backward(grad: FloatArray) -> FloatArray | None:
            return backward_method(grad, grad)

        return forward, backward

    def local_derivative(self) -> FloatArray:
        raise NotImplementedError(
            "softmax has a full Jacobian, not an elementwise derivative; use backward()"
        )

    def backward(self, grad_output: FloatArray, out: FloatArray | None = None) -> FloatArray:
        a = self._require_forward(self.a)
        weighted: FloatArray = np.sum(grad_output * a, axis=1, keepdims=True)  # (batch, 1)
        return np.multiply(grad_output - weighted, a, out=out)


class Identity(Activation):
    """``a = z``; derivative 1. Caches nothing beyond the output."""

    kind = "identity"
    formula = "z"
    derivative_formula = "1"

    def forward(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self.z = z
        if out is not None:
            np.copyto(out, z)
            z = out
        self.a = z
        return z

    def local_derivative(self) -> FloatArray:
        return np.ones_like(self._require_forward(self.a))

    def backward(self, grad_output: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self._require_forward(self.a)
        if out is not None and out is not grad_output:
            np.copyto(out, grad_output)
            return out
        return grad_output


ACTIVATIONS: dict[str, type[Activation]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
    "identity": Identity,
    "linear": Identity,
}


def make_activation(name: str | Layer, **options: Any) -> Layer:
    """Return a new activation layer by name (``relu``, ``leaky_relu``, ...)."""
    if isinstance(name, Layer):
        return name
    key = str(name).lower().replace("-", "_")
    if key not in ACTIVATIONS:
        valid = ", ".join(sorted(ACTIVATIONS))
        raise InvalidInputError(f"activation={name!r} is not known; use one of: {valid}")
    return ACTIVATIONS[key](**options)


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014).

    Training: ``mask = Bernoulli(1 - rate) / (1 - rate)`` drawn per element
    from the layer's own seeded generator, and ``a = x ⊙ mask``, so the
    expected output equals the input. Inference (``training = False``): the
    identity, with no mask. Backward: ``dL/dx = dL/da ⊙ mask``. Caches the mask.
    """

    kind = "dropout"

    def __init__(self, rate: float = 0.5, seed: int | np.integer[Any] | np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)):
            raise InvalidTypeError(f"rate={rate!r} must be a number in [0, 1)")
        if not (0.0 <= float(rate) < 1.0):
            raise InvalidInputError(f"dropout rate={rate!r} must be in [0, 1); 0.1 to 0.5 is typical")
        self.rate = float(rate)
        self.rng = as_generator(seed)
        self.mask: FloatArray | None = None
        self._forward_done = False

    def config(self) -> JSONDict:
        return {"type": self.kind, "rate": self.rate}

    def forward(self, x: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self._forward_done = True
        if not self.training or self.rate == 0.0:
            self.mask = None
            if out is not None:
                np.copyto(out, x)
                return out
            return x
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(x.shape) < keep).astype(x.dtype)
        self.mask /= keep
        return np.multiply(x, self.mask, out=out)

    def backward(self, grad_output: FloatArray, out: FloatArray | None = None) -> FloatArray:
        self._require_forward(self._forward_done or None)
        if self.mask is None:
            if out is not None and out is not grad_output:
                np.copyto(out, grad_output)
                return out
            return grad_output
        return np.multiply(grad_output, self.mask, out=out)
