"""Sequential network: forward, backward, one training step, and its trace.

Layers are numbered by Dense layer: the k-th Dense layer computes ``z_k`` and
the activation after it computes ``a_k``; the network's output is ``y``. The
backward pass writes ``delta_k = dL/dz_k``, ``dW_k`` and ``db_k``. These are
the symbols of the trace (``step(..., trace=True)``).
"""

from __future__ import annotations

import copy
import inspect
import math
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Self, TypeAlias, TypeVar, cast, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ._buffers import aligned_empty, aligned_zeros, padded_size
from ._typing import FloatArray, JSONDict
from .errors import InvalidInputError, InvalidTypeError
from .layers import ACTIVATIONS, Activation, Dense, Dropout, Layer, ReLU
from .losses import LOSSES, get_loss
from .optimizers import FlatLayout, Slot, get_optimizer
from .trace import Trace
from .validation import all_finite, check_array, check_dtype, check_finite

if TYPE_CHECKING:
    from .losses import Loss
    from .optimizers import Optimizer
    from .trace import QuantityTexts

_Texts = TypeVar("_Texts")

# Display name of each activation kind in formulas and derivative symbols.
DISPLAY_NAMES = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "identity": "identity",
    "dropout": "dropout",
}


# The built-in losses, whose gradient is a new array of the output's shape. Its dtype is the
# output's too, unless the targets skipped prepare_targets and have another.
_OWN_LOSSES = frozenset(LOSSES.values())


# The built-in layers, whose forward and backward write into the arrays in params and grads
# and never assign new ones.
_OWN_LAYERS = frozenset({Dense, Dropout, *ACTIVATIONS.values()})


class _Plan(NamedTuple):
    """The planned pass for one batch size (see Sequential._work_arrays)."""

    # Each layer's forward function, in order.
    forward: tuple[Callable[[FloatArray], FloatArray], ...]
    # Each layer's backward function, from the last layer down. Each returns dL/d(its input), or
    # None from the first Dense layer, which the loop passes on without checking.
    backward: tuple[Callable[[Any], Any], ...]
    # The array that receives the fused output delta.
    delta: FloatArray
    # The slots whose arrays the functions hold: the plan is rebuilt when they change.
    slots: Slots


class _PassTexts(NamedTuple):
    """Texts of the quantities a traced planned pass records (see Sequential._pass_texts)."""

    forward: tuple[QuantityTexts | None, ...]
    target: QuantityTexts
    loss: QuantityTexts
    gradient: QuantityTexts
    backward: tuple[tuple[QuantityTexts, ...] | None, ...]


class FlatBuffers:
    """All parameters of a network in one array, and all gradients in another.

    ``layout`` lists ``(name, start, stop)``: parameter ``name`` is
    ``params[start:stop]`` reshaped, and its gradient the same slice of ``grads``.
    ``views`` contains those ``(parameter, gradient)`` view objects in the same
    order, so that a caller can check that a layer still uses them.
    """

    __slots__ = ("params", "grads", "layout", "views")

    def __init__(self, params: FloatArray, grads: FloatArray, layout: FlatLayout,
                 views: tuple[tuple[FloatArray, FloatArray], ...] = ()) -> None:
        self.params = params
        self.grads = grads
        self.layout = layout
        self.views = views


class Slots(list[Slot]):
    """The ``(name, symbol, param, grad)`` list of :meth:`Sequential.slots`, with ``flat`` buffers or None."""

    flat: FlatBuffers | None = None


class Sequential:
    """A stack of layers applied in order.

    Parameters
    ----------
    layers : list of Layer
        Must start with a Dense layer; each activation follows a Dense layer.
        Layers of another live network are shared with it, parameters
        included, as when a network is built from another's first layers to
        look at its hidden activations.
    dtype : str or numpy dtype, optional
        Float dtype of every parameter and computation: ``"float64"`` (the
        default here, for exact teaching values and gradient checks) or
        ``"float32"`` (the default of the training front ends, for speed).
        Without it, layers of another network keep that network's dtype.
        Inputs of another dtype are converted, never the other way round.
    """

    # Counts the times any network named its layers; a network whose _named differs checks its own.
    _naming = 0

    def __init__(self, layers: Iterable[Layer], dtype: DTypeLike | None = None) -> None:
        if isinstance(layers, (Layer, str, bytes)) or not hasattr(layers, "__iter__"):
            raise InvalidTypeError(
                f"layers={layers!r} is not a list of layers; wrap them in a list, "
                "e.g. Sequential([Dense(2, 3), ReLU(), Dense(3, 1)])"
            )
        self.layers = list(layers)
        if dtype is None:
            networks = (network for layer in self.layers if isinstance(layer, Layer) for network in _networks(layer))
            dtype = next((network.dtype for network in networks), np.dtype(np.float64))
        self.dtype: np.dtype[Any] = check_dtype(dtype)
        self._build()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        if not self.layers:
            raise InvalidInputError("a network needs at least one layer; start with Dense(in_features, out_features)")
        seen: dict[int, int] = {}
        for position, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise InvalidTypeError(
                    f"layers[{position}] is a {type(layer).__name__}; expected a glassnet layer such as Dense or ReLU"
                )
            earlier = seen.setdefault(id(layer), position)
            if earlier != position:
                raise InvalidInputError(
                    f"layers[{position}] is the same {layer.kind} layer object as layers[{earlier}]; "
                    "each position needs a layer of its own, e.g. a new Dense(...) or copy.deepcopy(layer)"
                )
            owner = next((network for network in _networks(layer) if network.dtype != self.dtype), None)
            if owner is not None:
                raise InvalidInputError(
                    f"layers[{position}] ({layer.name}) belongs to a {owner.dtype.name} network, and sharing it "
                    f"with this {self.dtype.name} one would convert that network's parameters. Give this network "
                    "copies of its layers: network.copy(dtype=...) or Sequential(copy.deepcopy(layers), dtype=...)"
                )
        if not isinstance(self.layers[0], Dense):
            raise InvalidInputError(
                f"the first layer is {self.layers[0].kind}; a network must start with a Dense layer"
            )
        previous: Dense | None = None
        for position, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                if previous is not None and layer.in_features != previous.out_features:
                    raise InvalidInputError(
                        f"layers[{position}] takes {layer.in_features} inputs but the Dense layer before it has "
                        f"{previous.out_features} outputs; make them equal"
                    )
                previous = layer
            elif isinstance(layer, Activation) and not isinstance(self.layers[position - 1], Dense):
                raise InvalidInputError(
                    f"layers[{position}] ({layer.kind}) follows {self.layers[position - 1].kind}; "
                    "each activation must directly follow a Dense layer"
                )
        for layer in self.layers:
            layer.astype(self.dtype)
        self.dense_layers = [layer for layer in self.layers if isinstance(layer, Dense)]
        self._name_layers()
        self.in_features = self.dense_layers[0].in_features
        self.out_features = self.dense_layers[-1].out_features
        self._slot_names = [
            (f"{layer.name}.{key}", f"{key}{layer.number}", layer, key)
            for layer in self.layers
            for key in layer.params
        ]
        self._flat = self._gather_into_flat_buffers()
        self._slots: Slots | None = None
        # Trace texts (names, formulas, notes) keyed by what they depend on; see _cached_texts.
        self._trace_texts: dict[tuple[object, ...], Any] = {}
        # Work arrays of the untraced training pass, keyed by batch size (see _work_arrays).
        self._workspace: dict[int, _Plan] = {}
        # The last training input whose every element was found finite, and its memory layout
        # (see glassnet.training._prepare_training_input).
        self._checked_input: tuple[weakref.ref[FloatArray], tuple[object, ...]] | None = None
        # The arrays the last fit gathered mini-batches into, with their key (see glassnet.training).
        self._batch_buffers: tuple[tuple[object, ...], FloatArray, FloatArray] | None = None
        self._writes_into_out = all(
            "out" in inspect.signature(layer.forward).parameters
            and "out" in inspect.signature(layer.backward).parameters
            for layer in self.layers
        )
        self._built_in_layers = _only_built_in(self.layers)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled or deep-copied network and gather its parameters into new flat buffers.

        Pickling and ``copy.deepcopy`` turn each view of the flat buffers into
        an array of its own, so the views are made again here.
        """
        self.__dict__.update(state)
        self._name_layers()  # the layers are copies, which no other network has renamed
        self._built_in_layers = _only_built_in(self.layers)
        self._flat = self._gather_into_flat_buffers()
        self._slots = None
        self._workspace = {}
        self._trace_texts = {}
        self._checked_input = None
        self._batch_buffers = None

    def __getstate__(self) -> dict[str, Any]:
        """Return the state to pickle or copy, without the buffers and caches that are rebuilt."""
        state = self.__dict__.copy()
        for rebuilt in ("_flat", "_slots", "_workspace", "_trace_texts", "_checked_input", "_batch_buffers"):
            state.pop(rebuilt, None)
        return state

    def _gather_into_flat_buffers(self) -> FlatBuffers:
        """Move every parameter, and every gradient, into one contiguous array each.

        Each ``layer.params[key]`` and ``layer.grads[key]`` becomes a view of
        its slice of the flat array, so layers read and write them as before,
        while an optimizer may update all parameters with a single NumPy call
        (see :class:`FlatBuffers`). Small networks spend most of a step on the
        number of calls, not on arithmetic.
        """
        # Every parameter starts on a cache line; the padding between them stays zero.
        total = sum(padded_size(layer.params[key].size, self.dtype) for _, _, layer, key in self._slot_names)
        params = aligned_zeros(total, self.dtype)
        grads = aligned_zeros(total, self.dtype)
        layout: list[tuple[str, int, int]] = []
        views: list[tuple[FloatArray, FloatArray]] = []
        start = 0
        for name, _, layer, key in self._slot_names:
            shape = layer.params[key].shape
            stop = start + layer.params[key].size
            param_view = params[start:stop].reshape(shape)
            param_view[...] = layer.params[key]
            grad_view = grads[start:stop].reshape(shape)
            grad_view[...] = layer.grads[key]
            layer.params[key] = param_view
            layer.grads[key] = grad_view
            layout.append((name, start, stop))
            views.append((param_view, grad_view))
            start += padded_size(stop - start, self.dtype)
        return FlatBuffers(params, grads, tuple(layout), tuple(views))

    def _name_layers(self) -> None:
        """Give every layer this network's name, number, trace symbols and input-gradient flag.

        Two networks may share layer objects, for instance one built from
        another's first layers to look at its hidden activations. Each of
        these attributes can hold one network's value only, so the network
        that uses a layer next puts back its own (see :meth:`_claim`).
        """
        number = 0
        for layer in self.layers:
            if isinstance(layer, Dense):
                number += 1
                layer.name = f"dense{number}"
                layer.compute_input_grad = number > 1  # the first Dense layer skips dL/dx
            else:
                layer.name = f"{layer.kind}{number}"
            layer.number = number
        self._assign_symbols()
        for layer in self.layers:
            reference: _NetworkReference | None = getattr(layer, "_network", None)
            if reference is None:
                try:
                    reference = layer._network = _NetworkReference()  # type: ignore[attr-defined]
                except AttributeError:
                    continue  # a custom layer with __slots__ is not followed between networks
            reference.name(self)
        # Every other network checks its layers again before its next use.
        Sequential._naming += 1
        self._named = Sequential._naming

    def _ensure_named(self) -> None:
        """Name the layers again if a network built since from some of them renamed them."""
        if self._named != Sequential._naming:
            self._claim()

    def _claim(self) -> None:
        if any(_owner(layer) is not self for layer in self.layers):
            self._name_layers()
        else:
            self._named = Sequential._naming

    def _assign_symbols(self) -> None:
        last = len(self.layers) - 1
        below = "X"
        for position, layer in enumerate(self.layers):
            k = layer.number
            if isinstance(layer, Dense):
                output = f"z{k}"
            elif layer.kind == "dropout":
                output = f"a{k}_dropped"
            elif isinstance(layer, Activation) or below.startswith("z"):
                output = f"a{k}"
            else:
                # A custom layer after an activation: a{k} is taken, so its kind distinguishes them.
                # NOTE: two custom layers of one kind after the same Dense layer still share symbols.
                output = f"a{k}_{layer.kind}"
            if position == last:
                output = "y"
            if below.startswith("z"):
                grad_input = f"delta{below[1:]}"
            else:
                grad_input = f"dL/d{below}"
            if isinstance(layer, Activation):
                grad_input = f"delta{k}"
            layer.symbols = {"input": below, "output": output, "grad_input": grad_input}
            below = output
        for position, layer in enumerate(self.layers):
            if position == last:
                layer.symbols["grad_output"] = f"delta{layer.number}" if isinstance(layer, Dense) else "dL/dy"
            else:
                layer.symbols["grad_output"] = self.layers[position + 1].symbols["grad_input"]

    # ------------------------------------------------------------ inspection

    def parameters(self) -> Iterator[tuple[str, FloatArray]]:
        """Yield ``(name, array)`` for every parameter, e.g. ``("dense1.W", W)``."""
        self._ensure_named()
        for layer in self.layers:
            for key, value in layer.params.items():
                yield f"{layer.name}.{key}", value

    def gradients(self) -> Iterator[tuple[str, FloatArray]]:
        """Yield ``(name, array)`` for every gradient, named like :meth:`parameters`."""
        self._ensure_named()
        for layer in self.layers:
            for key, value in layer.grads.items():
                yield f"{layer.name}.{key}", value

    def slots(self) -> Slots:
        """Return ``[(name, symbol, param, grad), ...]`` for the optimizer, as a :class:`Slots` list.

        Its ``flat`` attribute is the network's :class:`FlatBuffers` while
        every parameter and gradient is still a view of them, else None (for
        instance after code replaced an array in ``layer.params``).
        """
        current = self._current_slots()
        slots = Slots(current)
        slots.flat = current.flat
        return slots

    def _current_slots(self) -> Slots:
        """Return the slots, reusing the last list while no layer's arrays were replaced.

        ``flat`` is set only while every parameter and gradient is the view
        that :meth:`_gather_into_flat_buffers` made for it.
        """
        cached = self._slots
        if cached is not None:
            for (_, _, layer, key), (_, _, param, grad) in zip(self._slot_names, cached):
                if layer.params[key] is not param or layer.grads[key] is not grad:
                    break
            else:
                return cached
        slots = Slots([(name, symbol, layer.params[key], layer.grads[key])
                       for name, symbol, layer, key in self._slot_names])
        # Only the exact views made by _gather_into_flat_buffers count: another view of the
        # buffer (a transpose, or one array used by two layers) must be updated on its own.
        views = self._flat.views
        if len(views) == len(slots) and all(
            param is param_view and grad is grad_view
            for (_, _, param, grad), (param_view, grad_view) in zip(slots, views)
        ):
            slots.flat = self._flat
        self._slots = slots
        return slots

    def parameters_by_symbol(self) -> dict[str, FloatArray]:
        """Return copies of the parameters keyed by trace symbol (``W1``, ``b1``...)."""
        return {symbol: param.copy() for _, symbol, param, _ in self._current_slots()}

    def get_parameters(self) -> dict[str, FloatArray]:
        """Return copies of the parameters keyed by name (``dense1.W``...)."""
        return {name: value.copy() for name, value in self.parameters()}

    def set_parameters(self, values: Mapping[str, ArrayLike]) -> None:
        """Copy ``{name: array}`` into the parameters; names and shapes must match."""
        current = dict(self.parameters())
        missing = sorted(set(current) - set(values))
        extra = sorted(set(values) - set(current))
        if missing or extra:
            raise InvalidInputError(
                f"parameter names do not match this network: missing {missing}, unexpected {extra}"
            )
        for name, value in values.items():
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise InvalidTypeError(
                    f"parameter {name} has dtype {array.dtype}; expected numbers of shape {current[name].shape}"
                )
            if array.shape != current[name].shape:
                raise InvalidInputError(
                    f"parameter {name} has shape {array.shape}; this network expects {current[name].shape}"
                )
            if not np.isfinite(array).all():
                index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
                raise InvalidInputError(
                    f"parameter {name} contains {array[index]} at index {index}; expected finite values. "
                    "Parameters are left unchanged"
                )
        for name, value in values.items():
            current[name][...] = value

    @property
    def n_parameters(self) -> int:
        return int(sum(value.size for _, value in self.parameters()))

    def config(self) -> JSONDict:
        """Return the architecture as JSON-ready builtins (no parameter values)."""
        return {"dtype": self.dtype.name, "layers": [layer.config() for layer in self.layers]}

    def copy(self, dtype: DTypeLike | None = None) -> Sequential:
        """Return an independent network with the same parameters, optionally in another dtype.

        A network of built-in layers is rebuilt from :meth:`config`. One with
        a custom layer or a subclass, which the configuration records only
        by kind, is deep-copied, so the copy runs the same methods.
        """
        from .build import network_from_config

        if not self._built_in_layers:
            # Copying the network, not only its layers, makes a layer's reference to this
            # network point at the copy, and restores every layer before the copy's __setstate__.
            clone = copy.deepcopy(self)
            target = check_dtype(dtype or self.dtype)
            if target != clone.dtype:
                clone.dtype = target
                clone._build()
            return clone
        clone = network_from_config(self.config(), dtype=dtype or self.dtype)
        clone.set_parameters(self.get_parameters())
        return clone

    def train(self) -> Self:
        """Switch layers such as Dropout to training behaviour."""
        for layer in self.layers:
            layer.training = True
        return self

    def eval(self) -> Self:
        """Switch layers such as Dropout to inference behaviour."""
        for layer in self.layers:
            layer.training = False
        return self

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n], dtype={self.dtype.name!r})"

    def _repr_html_(self) -> str:
        self._ensure_named()
        from .render.html import network_html

        return network_html(self)

    # ------------------------------------------------------------ computation

    def prepare_input(self, X: ArrayLike, argument: str = "X") -> FloatArray:
        """Return X as a (batch, in_features) array of the network's dtype, or raise.

        A 1-D input is one sample. NaN and inf are rejected with their row and column.
        """
        if type(X) is np.ndarray and X.ndim == 2 and X.dtype == self.dtype and X.shape[1] == self.in_features:
            # The usual case in a training loop: no conversion, and no temporary array for the check.
            if not all_finite(X):
                check_finite(X, argument)
            return X
        X = check_array(X, argument, dtype=self.dtype, finite=True)
        if X.shape[1] != self.in_features:
            raise InvalidInputError(
                f"{argument} has {X.shape[1]} features (shape {X.shape}); this network's first layer expects "
                f"{self.in_features}. Give one column per input feature"
            )
        return X

    def forward(self, X: ArrayLike, trace: Trace | None = None) -> FloatArray:
        """Return the output for X of shape (batch, in_features).

        A 1-D X is read as a single sample. When ``trace`` is a :class:`Trace`
        every layer's output is recorded into it.
        """
        return self.forward_prepared(self.prepare_input(X), trace)

    def forward_prepared(self, x: FloatArray, trace: Trace | None = None) -> FloatArray:
        """Like :meth:`forward` for an ``x`` already checked by :meth:`prepare_input`.

        The training loop calls this to check each data set once, not each batch.
        """
        self._ensure_named()
        if trace is not None:
            trace.add(_INPUT_TEXTS, x)
        for layer in self.layers:
            x = layer.forward(x)
            if trace is not None:
                _record_forward(self, layer, x, trace)
        return x

    def predict(self, X: ArrayLike) -> FloatArray:
        """Return the output for X in inference mode, as a new array."""
        self.eval()
        try:
            return np.array(self.forward(X), copy=True)
        finally:
            self.train()

    def backward(self, grad_output: FloatArray, trace: Trace | None = None,
                 start: int | None = None) -> FloatArray | None:
        """Back-propagate dL/dy through every layer, writing each layer's ``grads``.

        Gradients are overwritten, so two calls on the same forward pass give
        identical gradients. ``start`` is the index of the first layer to run
        backwards (used when the output activation is fused with the loss).
        Returns dL/dX, or None because the first Dense layer skips it.
        """
        self._ensure_named()
        if start is None:
            start = len(self.layers) - 1
        grad = grad_output
        for layer in reversed(self.layers[: start + 1]):
            # Only the first Dense layer, which runs last, returns None, so every call receives an array.
            grad_in: Any = layer.backward(grad)
            if trace is not None:
                _record_backward(self, layer, grad, grad_in, trace)
            grad = grad_in
        return grad

    def is_fused(self, loss: Loss) -> bool:
        """True when the last layer and ``loss`` are differentiated together.

        Only the built-in Sigmoid and Softmax classes fuse: the fused form
        computes their function from the logits, so a subclass or a custom
        layer of the same kind, which may compute another, keeps its own.
        A loss subclass that computes another function keeps its own too
        (see :func:`_loss_fuses`).
        """
        last = self.layers[-1]
        return (loss.fuses_with is not None and last.kind == loss.fuses_with and type(last) in _OWN_LAYERS
                and _loss_fuses(loss))

    def loss_and_backward(self, X: FloatArray, t: FloatArray, loss: Loss, trace: Trace | None = None,
                          l2: float = 0.0) -> float:
        """Run forward, the loss and backward on one batch; return the loss value.

        ``X`` must come from :meth:`prepare_input` and ``t`` from
        ``loss.prepare_targets``. Leaves every gradient in ``layer.grads``.
        ``l2`` (λ >= 0, checked by the caller) adds the penalty
        R = ½ λ Σ_k ||W_k||² over the Dense weights (not the biases) to the
        returned loss and λ W_k to each dW_k.

        Without an L2 penalty in a trace, every intermediate array is written
        into work arrays that the next call reuses, and a trace records copies
        (see :meth:`_untraced_loss_and_backward`).
        """
        self._ensure_named()
        # The planned pass skips the Dense layers' checks, so an input of another shape or dtype
        # takes the general pass, whose Dense.forward converts it or raises.
        planned = (self._writes_into_out and (trace is None or not l2) and type(X) is np.ndarray
                   and X.ndim == 2 and X.shape[1] == self.in_features and X.dtype == self.dtype)
        if planned:
            value = self._untraced_loss_and_backward(X, t, loss, trace)
            if not l2:
                return value
            penalty = 0.5 * l2 * sum(float(np.vdot(layer.params["W"], layer.params["W"]))
                                     for layer in self.dense_layers)
            for layer in self.dense_layers:
                layer.grads["W"] += l2 * layer.params["W"]
            return value + penalty

        y = self.forward_prepared(X, trace)
        fused = self.is_fused(loss)
        if fused:
            value = self._fused_loss_value(loss, t)
        else:
            value = loss.value(y, t)
        penalty = 0.0
        if l2:
            penalty = 0.5 * l2 * sum(float(np.vdot(layer.params["W"], layer.params["W"]))
                                     for layer in self.dense_layers)
        if trace is not None:
            if l2:
                _record_loss(self, loss, y, t, value, trace, fused, symbol="L_data")
                _record_penalty(self, l2, value, penalty, trace)
            else:
                _record_loss(self, loss, y, t, value, trace, fused)

        if fused:
            # The output activation's derivative cancels against the loss's:
            # dL/dz = (y - t) / N, so start the backward pass below the activation.
            delta = y - t
            delta /= loss.divisor(y)
            if trace is not None:
                _record_fused_delta(self, loss, delta, trace)
            self.backward(delta, trace, start=len(self.layers) - 2)
        else:
            grad = loss.gradient(y, t)
            if type(grad) is not np.ndarray or grad.shape != y.shape:
                grad = _loss_gradient_array(loss, grad, y.shape, self.dtype)
            if trace is not None:
                divisor = loss.divisor(y)
                key = ("loss_gradient", loss.name, loss.reduction, divisor)
                trace.add(_cached_texts(self, key, lambda: _loss_gradient_texts(self, loss, divisor)), grad)
            self.backward(grad, trace)

        # L2 penalty gradient: dL/dW_k = dW_k (from the data loss) + λ W_k.
        if l2:
            for layer in self.dense_layers:
                k = layer.number
                weights = layer.params["W"]
                grad_weights = layer.grads["W"]
                if trace is not None:
                    trace.record(f"dR/dW{k}", f"L2 penalty gradient of W{k}", f"λ · W{k}", l2 * weights,
                                 "backward", layer=k, inputs=(f"W{k}",), operation="l2_gradient",
                                 note=f"λ = {l2:g}")
                grad_weights += l2 * weights
                if trace is not None:
                    trace.record(f"dL/dW{k}", f"total gradient of W{k}", f"dW{k} + dR/dW{k}", grad_weights,
                                 "backward", layer=k, inputs=(f"dW{k}", f"dR/dW{k}"), operation="add")
        return value + penalty

    def _fused_loss_value(self, loss: Loss, t: FloatArray) -> float:
        """Return the loss computed from the output layer's logits, reusing Softmax's cache."""
        # The output activation (Softmax or Sigmoid) that the loss fuses with, whose forward has just set z.
        last: Any = self.layers[-1]
        if last.kind == "softmax":
            return loss.value_from_logits(last.z, t, shifted=last.shifted, log_sum=last.log_sum)
        return loss.value_from_logits(last.z, t)

    def _work_arrays(self, batch_size: int, slots: Slots) -> _Plan:
        """Return the planned pass for batches of ``batch_size`` rows, whose arrays are ``slots``.

        Each layer gets an output work array and, for a Dense layer that
        computes dL/d(input), an array for it, and returns its forward and
        backward functions (:meth:`Layer.training_kernels`). A ReLU layer's
        output array is its input, which saves a pass over memory at large
        batches, unless the layer is a subclass or follows a Dense subclass.
        The functions hold the parameter and gradient arrays, so a plan made
        for other ``slots`` (code replaced an array) is made again, and the
        plans of other batch sizes are dropped, which would keep the
        replaced arrays alive. An epoch has at most two batch sizes (full
        batches and a shorter last one), so few plans are kept.
        """
        work = self._workspace.get(batch_size)
        if work is not None and work.slots is slots:
            return work
        if len(self._workspace) >= 4 or any(plan.slots is not slots for plan in self._workspace.values()):
            self._workspace.clear()
        forward: list[Callable[[FloatArray], FloatArray]] = []
        backward: list[Callable[[Any], Any]] = []
        width = self.in_features
        dtype = self.dtype
        output: FloatArray | None = None
        after_dense = False  # whether the layer before is a Dense layer (not a subclass)
        for layer in self.layers:
            input_grad: FloatArray | None = None
            if isinstance(layer, Dense):
                if layer.compute_input_grad:
                    input_grad = aligned_empty((batch_size, width), dtype)
                width = layer.out_features
            # A ReLU's max(z, 0) overwrites z: backward needs only the sign pattern of z, which a
            # keeps. A ReLU subclass may need z itself, and a Dense subclass its output, so with
            # either the ReLU gets an array of its own.
            if output is None or not (type(layer) is ReLU and after_dense):
                output = aligned_empty((batch_size, width), dtype)
            layer_forward, layer_backward = layer.training_kernels(output, input_grad)
            forward.append(layer_forward)
            backward.insert(0, layer_backward)
            after_dense = type(layer) is Dense
        delta = aligned_empty((batch_size, width), dtype)
        work = self._workspace[batch_size] = _Plan(tuple(forward), tuple(backward), delta, slots)
        return work

    def _untraced_loss_and_backward(self, X: FloatArray, t: FloatArray, loss: Loss,
                                    trace: Trace | None = None, slots: Slots | None = None) -> float:
        """Run forward, the loss and backward on one batch with no allocation per layer.

        Each layer writes its output into a work array kept from the previous
        call of the same batch size. Backward writes each Dense layer's
        dL/d(input) into another, and elementwise layers multiply it in place.
        So after this call the layers' caches (``x``, ``z``, ``a``) are views
        of work arrays that the next training step overwrites. Returns the
        loss value. With a ``trace``, each quantity is recorded (copied) as
        soon as it is computed, before a later step of the pass can change it.
        ``slots`` is :meth:`_current_slots`, when the caller has it already.
        """
        if slots is None:
            slots = self._current_slots()
        forward, backward, delta, _ = self._work_arrays(X.shape[0], slots)
        layers = self.layers

        x = X
        if trace is None:
            for layer_forward in forward:
                x = layer_forward(x)
        else:
            texts = self._pass_texts(X.shape[0], loss)
            trace.add(_INPUT_TEXTS, x)
            for layer_forward, layer, layer_texts in zip(forward, layers, texts.forward):
                x = layer_forward(x)
                if layer_texts is None:
                    _record_forward(self, layer, x, trace)
                else:
                    trace.add(layer_texts, x)

        # The loss, and the gradient entering the backward pass.
        grad: FloatArray | None
        fused = (loss.fuses_with is not None and loss.fuses_with == layers[-1].kind
                 and type(layers[-1]) in _OWN_LAYERS and _loss_fuses(loss))  # as in is_fused
        if fused:
            value = self._fused_loss_value(loss, t)
            grad = np.subtract(x, t, out=delta)
            divisor = loss.divisor(x)
            if divisor != 1:
                grad /= divisor
            backward = backward[1:]  # the output activation's derivative cancels against the loss's
        else:
            value, grad = loss.value_and_gradient(x, t)
            if (type(loss) not in _OWN_LOSSES or grad.dtype is not self.dtype or grad.shape != x.shape) and (
                    type(grad) is not np.ndarray or grad.dtype != self.dtype or grad.shape != x.shape
                    or not grad.flags.writeable or grad is x):
                # A custom loss may return a list, another dtype, a read-only array or the output
                # itself. A built-in loss returns the dtype and shape that y - t broadcasts to, which
                # differ for targets that skipped prepare_targets. The Dense layers below skip the
                # conversion, and elementwise layers write into grad.
                grad = _loss_gradient_array(loss, grad, x.shape, self.dtype)
        # The gradient arrays belong to this pass, so elementwise layers update them in place.
        if trace is None:
            for layer_backward in backward:
                grad = layer_backward(grad)
            return value

        trace.add(texts.target, t)
        trace.add(texts.loss, np.float64(value))
        trace.add(texts.gradient, grad)
        position = len(backward)  # the layers run from index len(backward) - 1 down to 0
        for layer_backward, entry in zip(backward, texts.backward):
            position -= 1
            grad = layer_backward(grad)
            if entry is None:
                _record_backward(self, layers[position], None, grad, trace)
            else:
                _add_backward_records(trace, layers[position], entry, grad)
        return value

    def _pass_texts(self, batch_size: int, loss: Loss) -> "_PassTexts":
        """Return the texts of every quantity a traced planned pass records, built once per key.

        The backward entries follow the order of the pass (from the output
        down, without the output activation when it is fused with the loss).
        An entry of None marks a Dropout layer, whose records are made by
        the general helpers because they include its mask.
        """
        fused = self.is_fused(loss)
        key = ("pass", batch_size, loss.name, loss.reduction, fused)
        cached = self._trace_texts.get(key)
        if cached is not None:
            return cast(_PassTexts, cached)
        output_shape = (batch_size, self.out_features)
        divisor = loss.divisor(np.empty(output_shape, dtype=self.dtype))
        layers = self.layers
        forward = tuple(None if layer.kind == "dropout" else _forward_texts(self, layer) for layer in layers)
        target_texts, loss_texts = _loss_texts(self, loss, divisor, fused, "L")
        gradient = _fused_delta_texts(self, loss, divisor) if fused else _loss_gradient_texts(self, loss, divisor)
        backward: list[tuple[QuantityTexts, ...] | None] = []
        for layer in reversed(layers[: len(layers) - 1 if fused else len(layers)]):
            if isinstance(layer, Dense):
                backward.append(_dense_backward_texts(self, layer, batch_size))
            elif layer.kind == "dropout":
                backward.append(None)
            elif isinstance(layer, Activation):
                backward.append(_activation_backward_texts(self, layer))
            else:
                backward.append(_custom_backward_texts(self, layer))
        texts = _PassTexts(forward, target_texts, loss_texts, gradient, tuple(backward))
        self._trace_texts[key] = texts
        return texts

    @overload
    def step(self, X: ArrayLike, t: ArrayLike, loss: str | Loss = ..., optimizer: str | Optimizer | None = ...,
             trace: Literal[False] = ..., l2: float = ...) -> float: ...

    @overload
    def step(self, X: ArrayLike, t: ArrayLike, loss: str | Loss, optimizer: str | Optimizer | None,
             trace: Literal[True], l2: float = ...) -> Trace: ...

    @overload
    def step(self, X: ArrayLike, t: ArrayLike, loss: str | Loss = ..., optimizer: str | Optimizer | None = ...,
             *, trace: Literal[True], l2: float = ...) -> Trace: ...

    @overload
    def step(self, X: ArrayLike, t: ArrayLike, loss: str | Loss = ..., optimizer: str | Optimizer | None = ...,
             trace: bool = ..., l2: float = ...) -> float | Trace: ...

    def step(self, X: ArrayLike, t: ArrayLike, loss: str | Loss = "half-squared-error",
             optimizer: str | Optimizer | None = None, trace: bool = False, l2: float = 0.0) -> float | Trace:
        """Run one training step: forward, loss, backward, update.

        Parameters
        ----------
        X : array-like of shape (batch, in_features)
        t : array-like of shape (batch, out_features), or (batch,) of class labels
            for categorical cross-entropy.
        loss : str or Loss
        optimizer : Optimizer, optional
            Defaults to plain SGD with learning rate 0.1.
        trace : bool
            When true, return a :class:`Trace` of every quantity instead of the loss.
        l2 : float
            L2 penalty strength λ >= 0: adds ½ λ Σ ||W_k||² to the loss and
            λ W_k to each dW_k, recorded as ``L_data``, ``R``, ``dR/dW1``...

        Returns
        -------
        float or Trace
            The loss before the update, or the full trace.
        """
        self._ensure_named()
        loss = get_loss(loss)
        if type(l2) is not float or l2 != 0.0:  # the default needs no check
            l2 = check_l2(l2)
        if optimizer is None:
            optimizer = get_optimizer("sgd", learning_rate=0.1)
        else:
            optimizer = get_optimizer(optimizer)
        X = self.prepare_input(X)
        if X.shape[0] == 0:
            raise InvalidInputError(f"X is empty (shape {X.shape}); a training step needs at least one sample")
        t = loss.prepare_targets(t, (X.shape[0], self.out_features), self.dtype)
        slots = self._current_slots()
        if not trace and not l2 and self._writes_into_out:
            value = self._untraced_loss_and_backward(X, t, loss, slots=slots)
            if not self._built_in_layers:
                slots = self._current_slots()  # a custom layer may have assigned new gradient arrays
            optimizer.step(slots)
            return value
        record: Trace | None = None
        if trace:
            record = Trace(loss_name=loss.name, reduction=loss.reduction, fused=self.is_fused(loss),
                           batch_size=X.shape[0], step=optimizer.iterations + 1, optimizer=repr(optimizer))
            all_texts = self._trace_texts.get(("parameters",))
            if all_texts is None:
                all_texts = self._trace_texts[("parameters",)] = tuple(
                    _parameter_texts(self, symbol) for _, symbol, _, _ in slots)
            for (_, symbol, param, _), texts in zip(slots, all_texts):
                record.parameter_names[symbol] = texts[1]
                # The recorded copy is the value before the step, so the dict shares it.
                record.parameters_before[symbol] = record.add(texts, param).value

        value = self.loss_and_backward(X, t, loss, record, l2)

        if not self._built_in_layers:
            slots = self._current_slots()  # a custom layer may have assigned new gradient arrays
        optimizer.step(slots, record)
        if record is None:
            return value
        # Every optimizer records each updated parameter as "<symbol>_new", a copy taken after the update.
        recorded = {quantity.symbol: quantity.value for quantity in record.quantities[-len(self._slot_names):]}
        record.parameters_after = {
            symbol: recorded[f"{symbol}_new"] if f"{symbol}_new" in recorded else param.copy()
            for _, symbol, param, _ in slots
        }
        return record


class _NetworkReference:
    """A layer's weak references to the live networks that contain it and to the one that named it last.

    _build reads the networks, so that a network built from another's
    layers takes its dtype and two live networks of different dtypes never
    share a layer, even after the network that named the layer last is gone.
    A copy or a pickle of the layer starts without any, because the copy
    belongs to no network yet. Kept on the layer, not in a mapping keyed by
    layer, because a custom layer may define ``__eq__`` and so be unhashable.
    """

    __slots__ = ("networks", "named_by")

    def __init__(self) -> None:
        self.networks: weakref.WeakSet[Sequential] = weakref.WeakSet()
        self.named_by: weakref.ref[Sequential] | None = None

    def name(self, network: Sequential) -> None:
        """Record that ``network`` contains the layer and has just given it its names."""
        self.networks.add(network)
        self.named_by = weakref.ref(network)

    def __call__(self) -> Sequential | None:
        return None if self.named_by is None else self.named_by()

    def __reduce__(self) -> tuple[type[_NetworkReference], tuple[()]]:
        return _NetworkReference, ()

    def __deepcopy__(self, memo: dict[int, object]) -> _NetworkReference:
        return _NetworkReference()


def _networks(layer: Layer) -> list[Sequential]:
    """Return the live networks that contain ``layer``."""
    reference: _NetworkReference | None = getattr(layer, "_network", None)
    return [] if reference is None else list(reference.networks)


def _owner(layer: Layer) -> Sequential | None:
    """Return the live network that last named ``layer``, or None."""
    reference: _NetworkReference | None = getattr(layer, "_network", None)
    return None if reference is None else reference()


def _loss_fuses(loss: Loss) -> bool:
    """Return whether ``loss`` may take its fused form, computed from the output layer's logits.

    A built-in loss may. A subclass of a built-in loss that overrides value,
    gradient or value_and_gradient may compute another function. Unless it
    also overrides value_from_logits, the fused form would replace that
    function, so the subclass keeps its own. Another Loss class that sets
    ``fuses_with`` defines its own value_from_logits.
    """
    loss_class = type(loss)
    if loss_class in _OWN_LOSSES:
        return True
    base = next((cls for cls in loss_class.__mro__ if cls in _OWN_LOSSES), None)
    if base is None or loss_class.value_from_logits is not base.value_from_logits:
        return True
    return all(getattr(loss_class, name) is getattr(base, name)
               for name in ("value", "gradient", "value_and_gradient"))


def _only_built_in(layers: Iterable[Layer]) -> bool:
    """Return whether every layer is of a built-in class, not a subclass or a custom layer.

    Built-in layers write into the arrays of ``params`` and ``grads``, so a
    step's slots stay current from start to end. A custom layer's backward
    may assign new arrays to ``grads`` (or its forward to ``params``), and
    the optimizer must then get the new ones. :meth:`Sequential.config`
    also names only built-in layers.
    """
    return all(type(layer) in _OWN_LAYERS for layer in layers)


def _loss_gradient_array(loss: Loss, grad: object, shape: tuple[int, ...], dtype: np.dtype[Any]) -> FloatArray:
    """Return a loss's dL/dy as a new writable array of ``dtype``, or raise when its shape is not ``shape``."""
    array: FloatArray = np.array(grad, dtype=dtype)
    if array.shape != shape:
        raise InvalidInputError(
            f"the gradient returned by loss {type(loss).__name__} has shape {array.shape}; expected the "
            f"network output's shape {shape}. Return dL/dy with one value per output element"
        )
    return array


def _layer_title(network: Sequential, number: int) -> str:
    if number == len(network.dense_layers):
        return "output layer"
    if len(network.dense_layers) == 2:
        return "hidden layer"
    return f"hidden layer {number}"


def _parameter_name(network: Sequential, symbol: str) -> str:
    title = _layer_title(network, int(symbol[1:]))
    kind = "weights" if symbol[0] == "W" else "biases"
    return f"{title} {kind}"


def _cached_texts(network: Sequential, key: tuple[object, ...], build: Callable[[], _Texts]) -> _Texts:
    """Return the trace texts for ``key``, calling ``build()`` only the first time.

    Names, formulas and notes depend on the network's structure and on the
    batch size, loss and optimizer settings in ``key``, not on values, so a
    traced step reuses them instead of formatting them again.
    """
    texts: _Texts | None = network._trace_texts.get(key)
    if texts is None:
        texts = network._trace_texts[key] = build()
    return texts


# Texts of the input quantity X: (symbol, name, formula, phase, layer, inputs, operation, note).
_INPUT_TEXTS: QuantityTexts = ("X", "input", "given", "forward", 0, (), "", "")


def _parameter_texts(network: Sequential, symbol: str) -> QuantityTexts:
    return (symbol, _parameter_name(network, symbol), "given", "parameters", int(symbol[1:]), (), "", "")


def _loss_gradient_texts(network: Sequential, loss: Loss, divisor: int) -> QuantityTexts:
    last = network.layers[-1]
    name = "derivative of the loss with respect to the output"
    if isinstance(last, Dense):
        name = f"output layer delta, dL/dz{last.number} = dL/dy (no output activation)"
    return (last.symbols["grad_output"], name, loss.describe(divisor)[1], "backward", last.number, ("y", "t"),
            "loss_gradient", f"N = {divisor}")


def _record_forward(network: Sequential, layer: Layer, output: FloatArray, trace: Trace) -> None:
    k = layer.number
    if layer.kind == "dropout":
        dropout = cast(Dropout, layer)
        title = _layer_title(network, k)
        symbols = layer.symbols
        trace.record(f"mask{k}", f"{title} dropout mask", f"Bernoulli(1 - p) / (1 - p), p = {dropout.rate:g}",
                     dropout.mask if dropout.mask is not None else np.ones_like(output), "forward", layer=k,
                     operation="dropout_mask")
        trace.record(symbols["output"], f"{title} output after dropout", f"{symbols['input']} ⊙ mask{k}",
                     output, "forward", layer=k, inputs=(symbols["input"], f"mask{k}"), operation="hadamard")
        return
    texts = _cached_texts(network, ("forward", k, layer.kind), lambda: _forward_texts(network, layer))
    trace.add(texts, output)


def _forward_texts(network: Sequential, layer: Layer) -> QuantityTexts:
    k = layer.number
    title = _layer_title(network, k)
    symbols = layer.symbols
    if isinstance(layer, Dense):
        name = "final output (no output activation)" if symbols["output"] == "y" else f"{title} pre-activation"
        return (symbols["output"], name, f"{symbols['input']} · W{k} + b{k}", "forward", k,
                (symbols["input"], f"W{k}", f"b{k}"), "matmul_add", "")
    name = "final output" if symbols["output"] == "y" else f"{title} output"
    function = DISPLAY_NAMES.get(layer.kind, layer.kind)
    return (symbols["output"], name, f"{function}({symbols['input']})", "forward", k, (symbols["input"],),
            f"activation:{layer.kind}", "")


def check_l2(l2: object) -> float:
    """Return the L2 penalty strength as a float >= 0, or raise."""
    if isinstance(l2, bool) or not isinstance(l2, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"l2={l2!r} ({type(l2).__name__}) must be a number >= 0, e.g. 1e-4")
    if not math.isfinite(l2) or l2 < 0:
        raise InvalidInputError(f"l2={l2} must be a finite number >= 0 (0 turns the penalty off), e.g. 1e-4")
    return float(l2)


def _record_penalty(network: Sequential, l2: float, data_loss: float, penalty: float, trace: Trace) -> None:
    weights = [f"W{layer.number}" for layer in network.dense_layers]
    squares = " + ".join(f"||{symbol}||²" for symbol in weights)
    trace.record("R", "L2 penalty", f"½ λ ({squares})", np.float64(penalty), "loss", inputs=tuple(weights),
                 operation="l2_penalty", note=f"λ = {l2:g}; biases are not penalised")
    trace.record("L", "loss including the L2 penalty", "L_data + R", np.float64(data_loss + penalty), "loss",
                 inputs=("L_data", "R"), operation="add")


def _record_loss(network: Sequential, loss: Loss, y: FloatArray, t: FloatArray, value: float, trace: Trace,
                 fused: bool, symbol: str = "L") -> None:
    divisor = loss.divisor(y)
    key = ("loss", symbol, loss.name, loss.reduction, divisor, fused)
    target_texts, loss_texts = _cached_texts(network, key, lambda: _loss_texts(network, loss, divisor, fused, symbol))
    trace.add(target_texts, t)
    trace.add(loss_texts, np.float64(value))


def _loss_texts(network: Sequential, loss: Loss, divisor: int, fused: bool,
                symbol: str) -> tuple[QuantityTexts, QuantityTexts]:
    note = f"N = {divisor}"
    if fused:
        note += f"; computed from z{network.layers[-1].number} so that log(0) never occurs"
    return (
        ("t", "target", "given", "loss", 0, (), "given", ""),
        (symbol, f"loss: {loss.name}, {loss.reduction} over the batch", loss.describe(divisor)[0], "loss", 0,
         ("y", "t"), f"loss:{loss.name}", note),
    )


def _record_fused_delta(network: Sequential, loss: Loss, delta: FloatArray, trace: Trace) -> None:
    divisor = loss.divisor(delta)
    key = ("fused_delta", loss.name, divisor)
    trace.add(_cached_texts(network, key, lambda: _fused_delta_texts(network, loss, divisor)), delta)


def _fused_delta_texts(network: Sequential, loss: Loss, divisor: int) -> QuantityTexts:
    activation = network.layers[-1]
    k = activation.number
    formula = "y - t" if divisor == 1 else "(y - t) / N"
    function = DISPLAY_NAMES[activation.kind]
    note = (f"{function} output with {loss.name}: the {function} derivative cancels against the loss "
            f"derivative, so delta = (y - t) / N with N = {divisor}")
    return (f"delta{k}", f"output layer delta, dL/dz{k}", formula, "backward", k, ("y", "t"), "fused_delta", note)


def _record_backward(network: Sequential, layer: Layer, grad_output: FloatArray | None,
                     grad_input: FloatArray | None, trace: Trace) -> None:
    k = layer.number
    texts: tuple[QuantityTexts, ...]
    if isinstance(layer, Dense):
        # Backward has just run, so the input x is cached.
        batch = cast(FloatArray, layer.x).shape[0]
        texts = _cached_texts(network, ("backward", k, "dense", batch),
                              lambda: _dense_backward_texts(network, layer, batch))
        _add_backward_records(trace, layer, texts, grad_input)
        return
    if layer.kind == "dropout":
        symbols = layer.symbols
        trace.record(symbols["grad_input"], f"{_layer_title(network, k)} gradient before dropout",
                     f"{symbols['grad_output']} ⊙ mask{k}", cast(FloatArray, grad_input), "backward", layer=k,
                     inputs=(symbols["grad_output"], f"mask{k}"), operation="hadamard")
        return
    if isinstance(layer, Activation):
        texts = _cached_texts(network, ("backward", k, layer.kind), lambda: _activation_backward_texts(network, layer))
    else:
        texts = _cached_texts(network, ("backward", k, layer.kind, layer.symbols["grad_input"]),
                              lambda: _custom_backward_texts(network, layer))
    _add_backward_records(trace, layer, texts, grad_input)


def _add_backward_records(trace: Trace, layer: Layer, texts: tuple[QuantityTexts, ...],
                          grad_input: FloatArray | None) -> None:
    """Record a layer's backward quantities with their prepared texts.

    A Dense layer records dW, db and, unless it is the first layer, the
    gradient below; softmax records its delta alone; other activations record
    their local derivative and delta. A custom layer records the gradient of
    each parameter and the gradient below.
    """
    if isinstance(layer, Dense):
        trace.add(texts[0], layer.grads["W"])
        trace.add(texts[1], layer.grads["b"])
        if grad_input is not None:
            trace.add(texts[2], grad_input)
        return
    if not isinstance(layer, Activation):
        for parameter_texts, key in zip(texts, layer.params):
            trace.add(parameter_texts, layer.grads[key])
        trace.add(texts[-1], cast(FloatArray, grad_input))
        return
    # Only the first Dense layer passes back no gradient, so an activation's grad_input is an array.
    if len(texts) == 1:  # softmax: the delta alone
        trace.add(texts[0], cast(FloatArray, grad_input))
        return
    trace.add(texts[0], layer.local_derivative())
    trace.add(texts[1], cast(FloatArray, grad_input))


def _dense_backward_texts(network: Sequential, layer: Dense,
                          batch: int) -> tuple[QuantityTexts, QuantityTexts, QuantityTexts]:
    """Return the texts of dW, db and the gradient below, for a batch of ``batch`` rows."""
    k = layer.number
    title = _layer_title(network, k)
    symbols = layer.symbols
    delta = symbols["grad_output"]
    below = symbols["input"]
    sum_note = f"summed over the batch of {batch}" if batch > 1 else ""
    return (
        (f"dW{k}", f"{title} weight gradient", f"{below}ᵀ · {delta}", "backward", k, (below, delta), "outer",
         sum_note),
        (f"db{k}", f"{title} bias gradient", f"Σ_batch {delta}" if batch > 1 else delta, "backward", k, (delta,),
         "batch_sum", sum_note),
        (symbols["grad_input"], f"gradient flowing into {_layer_title(network, k - 1)}", f"{delta} · W{k}ᵀ",
         "backward", k - 1, (delta, f"W{k}"), "matmul_transpose", ""),
    )


def _custom_backward_texts(network: Sequential, layer: Layer) -> tuple[QuantityTexts, ...]:
    """Return the texts of a custom layer's parameter gradients and of the gradient below it.

    The engine has no formula for a custom layer, so each formula names its backward method.
    """
    k = layer.number
    title = _layer_title(network, k)
    symbols = layer.symbols
    grad_output = symbols["grad_output"]
    backward = f"{layer.kind}.backward({grad_output})"
    texts: list[QuantityTexts] = [
        (f"d{key}{k}", f"{title} {layer.kind} gradient of {key}", backward, "backward", k, (grad_output,), "", "")
        for key in layer.params
    ]
    texts.append((symbols["grad_input"], f"gradient flowing into {title} below {layer.kind}", backward, "backward",
                  k, (grad_output,), "", ""))
    return tuple(texts)


def _derivative_formula(layer: Activation, built_in: dict[str, str]) -> str:
    """Return the formula of an activation's local derivative, as the trace shows it.

    A built-in activation, or a subclass that keeps its derivative, gets
    ``built_in[kind]``, written with the layer's symbols. Another layer gets
    its own ``derivative_formula``, written in z, a and y. A subclass that
    replaces local_derivative but inherits the formula of the derivative it
    replaced gets the generic f'(z).
    """
    layer_class = type(layer)
    if layer_class in _OWN_LAYERS:
        return built_in.get(layer.kind, "f'(z)")
    if "derivative_formula" in vars(layer):
        return str(layer.derivative_formula)
    formula_owner = next(cls for cls in layer_class.__mro__ if "derivative_formula" in vars(cls))
    derivative_owner = next(cls for cls in layer_class.__mro__ if "local_derivative" in vars(cls))
    if not issubclass(formula_owner, derivative_owner):
        return "f'(z)"
    if formula_owner in _OWN_LAYERS:
        return built_in.get(layer.kind, "f'(z)")
    return str(layer.derivative_formula)


def _activation_backward_texts(network: Sequential, layer: Layer) -> tuple[QuantityTexts, ...]:
    """Return the texts of an activation's local derivative and delta (the delta alone for softmax)."""
    k = layer.number
    title = _layer_title(network, k)
    symbols = layer.symbols
    z = symbols["input"]
    function = DISPLAY_NAMES.get(layer.kind, layer.kind)
    delta_name = f"{'output layer' if symbols['output'] == 'y' else title} delta, dL/d{z}"
    if layer.kind == "softmax":
        g = symbols["grad_output"]
        return ((symbols["grad_input"], delta_name, f"({g} - Σ {g} ⊙ y) ⊙ y", "backward", k,
                 (g, symbols["output"]), "softmax_backward", ""),)
    derivative_symbol = f"{function}'({z})"
    out = symbols["output"]
    formulas = {
        "sigmoid": f"{out}(1 - {out})",
        "tanh": f"1 - {out}²",
        "relu": f"1 if {z} > 0 else 0",
        "leaky_relu": f"1 if {z} > 0 else {getattr(layer, 'alpha', 0):g}",
        "identity": "1",
    }
    derivative_formula = _derivative_formula(cast(Activation, layer), formulas)
    return (
        (derivative_symbol, f"{title} activation derivative", derivative_formula, "backward", k,
         (out,) if layer.kind in ("sigmoid", "tanh") else (z,), f"derivative:{layer.kind}", ""),
        (symbols["grad_input"], delta_name, f"{symbols['grad_output']} ⊙ {derivative_symbol}", "backward", k,
         (symbols["grad_output"], derivative_symbol), "hadamard", ""),
    )
