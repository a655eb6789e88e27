"""Optimizers: update parameters in place from their gradients.

Every optimizer keeps its state (velocity, moment estimates, step count) in
``self.state``, keyed by the parameter's name (``dense1.W``), so it can be
printed, saved and restored. ``step(slots, trace)`` updates each parameter in
place; when a trace is given it also records the state and the new values.

A *slot* is ``(name, symbol, param, grad)``: the network's parameter name,
its trace symbol (``W1``), and the parameter and gradient arrays.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from ._blas import Axpy, axpy_for
from ._buffers import aligned_like, aligned_zeros
from ._typing import FloatArray, JSONDict
from .errors import InvalidInputError, InvalidTypeError

if TYPE_CHECKING:
    from .network import FlatBuffers
    from .trace import QuantityTexts, Trace

# A parameter's (name, trace symbol, parameter array, gradient array), as Sequential.slots lists them.
Slot: TypeAlias = tuple[str, str, FloatArray, FloatArray]
# (name, start, stop) of each parameter's slice of a flat array, as in glassnet.network.FlatBuffers.
FlatLayout: TypeAlias = tuple[tuple[str, int, int], ...]


def _check_number(value: object, argument: str, *, minimum: float | None = None, maximum: float | None = None,
                  strict: bool = True, allow_zero: bool = False) -> float:
    relation = ">" if strict and not allow_zero else ">="
    expected = "a finite number"
    if minimum is not None:
        expected += f" {relation} {minimum:g}"
    if maximum is not None:
        expected += f" and < {maximum:g}" if minimum is not None else f" < {maximum:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(
            f"{argument}={value!r} ({type(value).__name__}) is not a number; expected {expected}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInputError(f"{argument}={value} is not finite; expected {expected}")
    if minimum is not None:
        too_small = value < minimum or (strict and value == minimum and not allow_zero)
        if too_small:
            raise InvalidInputError(f"{argument}={value:g} is out of range; expected {expected}")
    if maximum is not None and value >= maximum:
        raise InvalidInputError(f"{argument}={value:g} is out of range; expected {expected}")
    return value


class Optimizer:
    """Base class: learning rate, optional gradient clipping and state.

    Parameters
    ----------
    learning_rate : float
        Step size, > 0. A schedule may change it between epochs.
    clip_norm : float, optional
        When set, all gradients are scaled by ``clip_norm / ||g||`` whenever
        their global L2 norm ``||g||`` (over every parameter together)
        exceeds it. Unlike PyTorch's ``clip_grad_norm_``, no 1e-6 is added
        to the norm.

    Attributes
    ----------
    state : dict
        ``{parameter name: {"velocity" | "m" | "v": array}}``, created at the
        first step of each parameter.
    iterations : int
        Number of steps taken (``t`` in Adam's bias correction).
    """

    name = "optimizer"
    # The learning rate and the parameters' dtype that SGD._flat_change last saw, and the rate as a
    # 0-d array of the dtype that NumPy computes their product in. A class attribute until the first
    # flat step, so that an optimizer pickled before it existed still loads and steps.
    _rate: tuple[float | None, np.dtype[Any] | None, FloatArray] = (None, None, np.asarray(0.0))
    # The flat buffers of the step in progress, set while _update runs once over all parameters.
    _flat: FlatBuffers | None = None
    # {state key: (flat array, its views in self.state by parameter)}; see _gather_state. Class
    # attributes until first set, so that optimizers pickled before they existed still load.
    _flat_state: dict[str, tuple[FloatArray, tuple[FloatArray, ...]]] | None = None
    # The layout and dtype of the flat buffers that _flat_state was made for. Another network's
    # parameters may share names and shapes but not the slices (fewer parameters, another dtype).
    _flat_state_for: tuple[FlatLayout, np.dtype[Any]] | None = None

    def __init__(self, learning_rate: float = 0.01, clip_norm: float | None = None) -> None:
        self.learning_rate = _check_number(learning_rate, "learning_rate", minimum=0.0)
        self.clip_norm = None if clip_norm is None else _check_number(clip_norm, "clip_norm", minimum=0.0)
        self.state: dict[str, dict[str, FloatArray]] = {}
        self.iterations = 0
        self._scratch: dict[tuple[tuple[int, ...], str, int], FloatArray] = {}
        # Set by compute_updates: _apply then collects each update here instead of applying it.
        self._pending: list[PendingUpdate] | None = None
        self._changes: dict[str, FloatArray] = {}
        # Texts of traced updates, which depend only on their key (see _record_update and _traced_plain_step).
        self._trace_texts: dict[tuple[str, str, str, tuple[str, ...], float], QuantityTexts] = {}
        self._plain_texts: dict[tuple[object, ...], tuple[QuantityTexts, ...]] = {}

    def hyperparameters(self) -> dict[str, float | bool | None]:
        return {"learning_rate": self.learning_rate, "clip_norm": self.clip_norm}

    def config(self) -> JSONDict:
        return {"name": self.name, **self.hyperparameters()}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:g}" for k, v in self.hyperparameters().items() if v not in (None, False))
        return f"{type(self).__name__}({shown})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        # The arrays in self.state are views of these, and pickle copies each view on its own. The
        # next step gathers them again.
        state.pop("_flat_state", None)
        state.pop("_flat_state_for", None)
        return state

    def step(self, slots: Sequence[Slot], trace: Trace | None = None) -> None:
        """Update every parameter in ``slots`` in place.

        ``slots`` is ``[(name, symbol, param, grad), ...]`` as returned by
        :meth:`glassnet.Sequential.slots`. The gradients are read, and only
        scaled in place by gradient clipping.

        Without a trace, when every parameter lives in one flat array (see
        :class:`glassnet.network.FlatBuffers`), a built-in optimizer runs its
        update once over that array instead of once per parameter. Its
        operations are elementwise, so the results are bitwise the same, and
        a step costs one NumPy call per operation, not one per operation and
        parameter. The state stays one array per parameter: each is a view
        of a flat array (see :meth:`_gather_state`).
        """
        if self.state:
            self._check_state(slots)
        flat: FlatBuffers | None = getattr(slots, "flat", None)
        on_flat = trace is None and flat is not None and _updates_elementwise(self) and self._gather_state(flat)
        self.iterations += 1
        if self.clip_norm is not None:
            self._clip(slots, trace, self.clip_norm)
        if on_flat:
            assert flat is not None
            self._flat = flat
            try:
                self._update(ALL_PARAMETERS, "", flat.params, flat.grads, None)
            finally:
                self._flat = None
            return
        for name, symbol, param, grad in slots:
            self._update(name, symbol, param, grad, trace)

    def keeps_gradient_state(self) -> bool:
        """Return whether a step keeps values computed from the gradients, such as a velocity, in :attr:`state`.

        A step on a non-finite gradient would leave NaN or inf there, even
        when the parameters are kept, so :func:`glassnet.training.fit` checks
        the input gradient first for such an optimizer. True unless a
        subclass overrides it. SGD returns False only for itself at
        momentum 0, not for its subclasses.
        """
        return True

    def compute_updates(self, slots: Sequence[Slot]) -> list[PendingUpdate]:
        """Run a step that computes every parameter's update but changes no parameter.

        Returns a list of :class:`PendingUpdate`, one per slot; passing it to
        :func:`apply_updates` finishes the step, bitwise equal to :meth:`step`.
        The optimizer's own state (step count, velocity, moments) does advance.
        So a caller can inspect every update before any parameter changes,
        as the training loop does to keep the last finite parameters. An
        update that a BLAS ``axpy`` applies refers to the gradient array
        itself, not a copy, so apply the updates before the gradients change.
        """
        self._pending = []
        try:
            self.step(slots)
            return self._pending
        finally:
            self._pending = None

    def _change_array(self, name: str, like: FloatArray) -> FloatArray:
        """Return the array for parameter ``name``'s pending update, one per parameter."""
        change = self._changes.get(name)
        if change is None or change.shape != like.shape or change.dtype != like.dtype:
            change = self._changes[name] = aligned_like(like)
        return change

    def _clip(self, slots: Sequence[Slot], trace: Trace | None, clip_norm: float) -> None:
        total = math.sqrt(sum(float(np.vdot(grad, grad)) for _, _, _, grad in slots))
        scale = 1.0
        if total > clip_norm:
            scale = clip_norm / total
            for _, _, _, grad in slots:
                grad *= scale
        if trace is not None:
            trace.record("||g||", "global gradient norm before clipping", "sqrt(Σ g²) over every gradient",
                         total, "update", operation="norm")
            trace.record("clip_scale", "gradient clipping factor", f"min(1, {clip_norm:g} / ||g||)",
                         scale, "update", inputs=("||g||",), operation="scale",
                         note="every gradient is multiplied by this factor before the update")

    def _update(self, name: str, symbol: str, param: FloatArray, grad: FloatArray, trace: Trace | None) -> None:
        raise NotImplementedError

    def _buffer(self, name: str, key: str, like: FloatArray) -> FloatArray:
        """Return the state array ``key`` (velocity, m, v) of parameter ``name``, zeros at first.

        For ``ALL_PARAMETERS`` it is the flat array of which every
        parameter's state array is a view.
        """
        if name == ALL_PARAMETERS:
            assert self._flat is not None and like is self._flat.params
            return self._flat_buffer(key, self._flat)
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = aligned_zeros(like.shape, like.dtype)
        return slot[key]

    def _gather_state(self, flat: FlatBuffers) -> bool:
        """Make every state array a view of one flat array per key; return False if that would change a result.

        A state array that is not yet such a view (made by a step without
        flat buffers, or set by :meth:`load_state_dict`) is copied into the
        flat array, and a parameter without one gets zeros, as
        :meth:`_buffer` gives it. A state of another dtype than the
        parameters gives False, because the per-parameter update computes
        in that dtype.
        """
        state = self.state
        cached = self._flat_state
        if cached is not None and self._flat_state_for == (flat.layout, flat.params.dtype) and all(
            state.get(name, {}).get(key) is view
            for key, (_, views) in cached.items()
            for (name, _, _), view in zip(flat.layout, views)
        ) and all(len(state.get(name, ())) == len(cached) for name, _, _ in flat.layout):
            return True
        keys = {key for name, _, _ in flat.layout for key in state.get(name, {})}
        for name, _, _ in flat.layout:
            if any(array.dtype != flat.params.dtype for array in state.get(name, {}).values()):
                return False
        self._flat_state = {}
        self._flat_state_for = (flat.layout, flat.params.dtype)
        for key in sorted(keys):
            self._flat_buffer(key, flat)
        return True

    def _flat_buffer(self, key: str, flat: FlatBuffers) -> FloatArray:
        """Return the flat state array ``key``, made on first use with a view of it per parameter in :attr:`state`."""
        if self._flat_state is None:
            self._flat_state = {}
        existing = self._flat_state.get(key)
        if existing is not None:
            return existing[0]
        array = aligned_zeros(flat.params.shape, flat.params.dtype)
        views = []
        for (name, start, stop), (param, _) in zip(flat.layout, flat.views):
            slot = self.state.setdefault(name, {})
            view = array[start:stop].reshape(param.shape)
            if key in slot:
                view[...] = slot[key]
            slot[key] = view
            views.append(view)
        self._flat_state[key] = (array, tuple(views))
        return array

    def _check_state(self, slots: Sequence[Slot]) -> None:
        """Raise InvalidInputError before any update if the state does not fit the parameters' shapes.

        The state is keyed by parameter name, so an optimizer that has
        stepped another network finds arrays of other shapes under the same
        names.
        """
        for name, _, param, _ in slots:
            for key, buffer in self.state.get(name, {}).items():
                if buffer.shape != param.shape:
                    raise InvalidInputError(
                        f"this optimizer's {key} for {name} has shape {buffer.shape}, but the parameter has "
                        f"shape {param.shape}: the optimizer has stepped another network, and its state is keyed "
                        f"by parameter name. Give each network its own optimizer, e.g. a new "
                        f"{type(self).__name__}(...)"
                    )

    def _work(self, like: FloatArray, index: int = 0) -> FloatArray:
        """Return reusable work array number ``index`` of ``like``'s shape and dtype.

        Reusing work arrays keeps the training loop free of allocations.
        """
        key = (like.shape, like.dtype.str, index)
        scratch = self._scratch.get(key)
        if scratch is None:
            scratch = self._scratch[key] = aligned_like(like)
        return scratch

    def _with_weight_decay(self, param: FloatArray, grad: FloatArray, weight_decay: float, symbol: str,
                           trace: Trace | None) -> tuple[FloatArray, str]:
        """Return ``(g + weight_decay · p, its symbol)`` without changing ``grad``."""
        g_symbol = _gradient_symbol(symbol, trace)
        if not weight_decay:
            return grad, g_symbol
        decayed = self._work(param, 1)
        np.multiply(param, weight_decay, out=decayed)
        decayed += grad
        if trace is not None:
            trace.record(f"g_{symbol}", f"gradient of {symbol} with weight decay", f"{g_symbol} + wd · {symbol}",
                         decayed, "update", layer=_layer_of(symbol), inputs=(g_symbol, symbol),
                         operation="weight_decay", note=f"wd = {weight_decay:g}")
            g_symbol = f"g_{symbol}"
        return decayed, g_symbol

    def _apply(self, name: str, param: FloatArray, direction: FloatArray, learning_rate: float, symbol: str,
               trace: Trace | None, direction_symbol: str, formula_inputs: tuple[str, ...],
               scale: float = 1.0) -> None:
        """Do ``param -= learning_rate * direction`` in place and record it.

        ``scale`` multiplies the parameter first (AdamW's decoupled decay) when
        the update is collected by :meth:`compute_updates`; otherwise the
        caller has already applied it.
        """
        if self._pending is not None:
            change = self._change_array(name, param)
            np.multiply(direction, learning_rate, out=change)
            layout = self._flat.layout if self._flat is not None and name == ALL_PARAMETERS else None
            self._pending.append(PendingUpdate(name, param, change, scale, layout=layout))
            return
        scratch = self._work(param, 0)
        np.multiply(direction, learning_rate, out=scratch)
        param -= scratch
        if trace is not None:
            self._record_update(param, learning_rate, symbol, trace, direction_symbol, formula_inputs)

    def _record_update(self, param: FloatArray, learning_rate: float, symbol: str, trace: Trace,
                       direction_symbol: str, formula_inputs: tuple[str, ...]) -> None:
        """Record the updated parameter ``{symbol}_new``, with texts built once per key."""
        described = trace.parameter_names.get(symbol, symbol)
        key = (symbol, described, direction_symbol, formula_inputs, learning_rate)
        texts = self._trace_texts.get(key)
        if texts is None:
            texts = self._trace_texts[key] = _update_texts(symbol, described, direction_symbol, formula_inputs,
                                                           learning_rate)
        trace.add(texts, param)

    def state_dict(self) -> JSONDict:
        """Return copies of the state as ``{name: {key: array}}``, the step count and the configuration."""
        state = {name: {key: np.array(value, copy=True) for key, value in values.items()}
                 for name, values in self.state.items()}
        return {"iterations": self.iterations, "state": state, "config": self.config()}

    def load_state_dict(self, saved: Mapping[str, Any]) -> None:
        """Restore the step count and state saved by :meth:`state_dict` (copies the arrays)."""
        self.iterations = int(saved["iterations"])
        self.state = {name: {k: np.array(v) for k, v in values.items()} for name, values in saved["state"].items()}


# Name of the update that covers every parameter of a network at once.
ALL_PARAMETERS = "all parameters"


class PendingUpdate:
    """A computed update: ``param *= scale``, then ``param -= rate · change``.

    ``param`` is one parameter, or with ``name == ALL_PARAMETERS`` the flat
    array of all of them; then ``layout`` gives each parameter's
    ``(name, start, stop)`` slice, as in :class:`glassnet.network.FlatBuffers`.
    An update with a BLAS ``axpy`` applies ``rate · change`` with it in one
    pass (see :mod:`glassnet._blas`); ``change`` is then the gradient itself.
    """

    __slots__ = ("name", "param", "change", "scale", "layout", "rate", "axpy")

    def __init__(self, name: str, param: FloatArray, change: FloatArray, scale: float = 1.0,
                 layout: FlatLayout | None = None, rate: float = 1.0,
                 axpy: Axpy | None = None) -> None:
        self.name = name
        self.param = param
        self.change = change
        self.scale = scale
        self.layout: FlatLayout = layout if layout is not None else ((name, 0, param.size),)
        self.rate = rate
        self.axpy = axpy


def _updates_elementwise(optimizer: Optimizer) -> bool:
    """Return whether ``optimizer`` updates each element from the same element of its inputs alone.

    True for the built-in optimizers, whose update may then run once over
    all parameters together. A subclass that overrides a method the update
    calls for each parameter may compute per parameter (a norm, say) or by
    name (no decay for biases), so it is updated per parameter.
    """
    for ancestor in type(optimizer).__mro__:
        if ancestor in _ELEMENTWISE_OPTIMIZERS:
            return True
        if not _PER_PARAMETER_METHODS.isdisjoint(vars(ancestor)):
            return False
    return False


def apply_updates(updates: Iterable[PendingUpdate]) -> None:
    """Apply the updates returned by :meth:`Optimizer.compute_updates`, in place."""
    for update in updates:
        if update.scale != 1.0:
            update.param *= update.scale
        if update.axpy is not None:
            update.axpy(update.change, update.param, -update.rate)
        elif update.rate != 1.0:
            update.param -= update.rate * update.change
        else:
            update.param -= update.change


def _update_texts(symbol: str, described: str, direction_symbol: str, formula_inputs: tuple[str, ...],
                  learning_rate: float) -> QuantityTexts:
    """Return the trace texts of the updated parameter ``{symbol}_new``."""
    return (f"{symbol}_new", f"updated {described}", f"{symbol} - lr · {direction_symbol}", "update",
            _layer_of(symbol), (symbol, *formula_inputs), "sgd_update", f"lr = {learning_rate:g}")


def _layer_of(symbol: str) -> int:
    return int(symbol[1:]) if symbol[1:].isdigit() else 0


def _gradient_symbol(symbol: str, trace: Trace | None) -> str:
    """Return the trace symbol of the gradient the update uses.

    With an L2 penalty the network records the total gradient as ``dL/dW1``
    after the data gradient ``dW1``; without one the gradient is ``dW1``.
    """
    total = f"dL/d{symbol}"
    if trace is not None and total in trace:
        return total
    return f"d{symbol}"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Plain (momentum = 0):
        p ← p - lr · g
    Heavy-ball momentum (Polyak, 1964) in PyTorch's form, with the velocity
    starting at 0 so that the first step equals plain SGD:
        v ← μ · v + g
        p ← p - lr · v
    Nesterov momentum (Sutskever et al., 2013) in PyTorch's form:
        v ← μ · v + g
        p ← p - lr · (g + μ · v)
    ``weight_decay`` replaces g by ``g + weight_decay · p`` first (coupled,
    every parameter including biases, as PyTorch's SGD).
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, clip_norm: float | None = None) -> None:
        super().__init__(learning_rate, clip_norm)
        self.momentum = _check_number(momentum, "momentum", minimum=0.0, maximum=1.0, allow_zero=True)
        if nesterov and self.momentum == 0.0:
            raise InvalidInputError("nesterov=True needs momentum > 0; set momentum (e.g. 0.9) or nesterov=False")
        self.nesterov = bool(nesterov)
        self.weight_decay = _check_number(weight_decay, "weight_decay", minimum=0.0, allow_zero=True)

    def hyperparameters(self) -> dict[str, float | bool | None]:
        return {**super().hyperparameters(), "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def keeps_gradient_state(self) -> bool:
        # Plain SGD keeps nothing, but a subclass may keep its own state at any momentum.
        return self.momentum != 0.0 or type(self) is not SGD

    def step(self, slots: Sequence[Slot], trace: Trace | None = None) -> None:
        # The plain update below skips _update, which a subclass may override.
        if self.clip_norm is not None or self.momentum != 0.0 or self.weight_decay or type(self) is not SGD:
            super().step(slots, trace)
            return
        if trace is not None:
            self._traced_plain_step(slots, trace)
            return
        # Plain SGD without a trace: the same two operations per parameter as _apply, without its
        # bookkeeping, because small networks spend most of a step on Python calls.
        self.iterations += 1
        learning_rate = self.learning_rate
        pending = self._pending
        flat: FlatBuffers | None = getattr(slots, "flat", None)
        if flat is not None:
            # Every parameter lives in one array (see Sequential.slots): one update for all of them.
            axpy = axpy_for(flat.params)
            if axpy is None and pending is None:
                flat.params -= self._flat_change(flat)  # two NumPy calls, without an update object
                return
            update = self._flat_update(flat, axpy)
            if pending is not None:
                pending.append(update)
            else:
                apply_updates((update,))
            return
        for name, _, param, grad in slots:
            if pending is not None:
                change = self._change_array(name, param)
                np.multiply(grad, learning_rate, out=change)
                pending.append(PendingUpdate(name, param, change))
                continue
            scratch = self._work(param, 0)
            np.multiply(grad, learning_rate, out=scratch)
            param -= scratch

    def _traced_plain_step(self, slots: Sequence[Slot], trace: Trace) -> None:
        """Run a plain SGD step with a trace: one update of the flat buffers when there are any, then records."""
        flat: FlatBuffers | None = getattr(slots, "flat", None)
        if flat is None:
            super().step(slots, trace)
            return
        self.iterations += 1
        apply_updates((self._flat_update(flat, axpy_for(flat.params)),))
        # The texts depend on the parameters (their names), the learning rate and whether the
        # trace has total gradients (an L2 penalty), so one lookup serves every parameter.
        with_penalty = f"dL/d{slots[0][1]}" in trace
        key = ("plain", flat.layout, self.learning_rate, with_penalty)
        texts = self._plain_texts.get(key)
        if texts is None:
            texts = self._plain_texts[key] = tuple(self._plain_update_texts(symbol, trace) for _, symbol, _, _ in slots)
        for (_, _, param, _), update_texts in zip(slots, texts):
            trace.add(update_texts, param)

    def _plain_update_texts(self, symbol: str, trace: Trace) -> QuantityTexts:
        g_symbol = _gradient_symbol(symbol, trace)
        return _update_texts(symbol, trace.parameter_names.get(symbol, symbol), g_symbol, (g_symbol,),
                             self.learning_rate)

    def _flat_update(self, flat: FlatBuffers, axpy: Axpy | None) -> PendingUpdate:
        """Return the update ``p -= learning_rate · g`` of the flat parameter array, by ``axpy`` where given."""
        learning_rate = self.learning_rate
        # A NumPy scalar rate of a wider dtype than the parameters' is left to NumPy, which computes in it.
        if axpy is not None and (type(learning_rate) is float or np.result_type(flat.params.dtype, learning_rate)
                                 == flat.params.dtype):
            # axpy multiplies by the rate rounded to the parameters' dtype, which is inf for a float32
            # network and a rate beyond 3.4e38. The update carries that value, so the divergence guard
            # bounds the update that axpy applies.
            rate = float(np.asarray(learning_rate, dtype=flat.params.dtype))
            return PendingUpdate(ALL_PARAMETERS, flat.params, flat.grads, layout=flat.layout, rate=rate, axpy=axpy)
        return PendingUpdate(ALL_PARAMETERS, flat.params, self._flat_change(flat), layout=flat.layout)

    def _flat_change(self, flat: FlatBuffers) -> FloatArray:
        """Return ``learning_rate · g`` for the flat gradient array, in this optimizer's array for it."""
        change = self._change_array(ALL_PARAMETERS, flat.params)
        learning_rate, dtype, rate = self._rate
        if learning_rate is not self.learning_rate or dtype is not change.dtype:
            # NumPy multiplies a small array by a 0-d array of its dtype faster than by a Python
            # float. A NumPy scalar rate of a wider dtype keeps it, as in np.multiply(grads, rate).
            learning_rate = self.learning_rate
            rate = np.asarray(learning_rate, dtype=np.result_type(change.dtype, learning_rate))
            self._rate = (learning_rate, change.dtype, rate)
        np.multiply(flat.grads, rate, out=change)
        return change

    def _update(self, name: str, symbol: str, param: FloatArray, grad: FloatArray, trace: Trace | None) -> None:
        grad, g_symbol = self._with_weight_decay(param, grad, self.weight_decay, symbol, trace)
        if self.momentum == 0.0:
            self._apply(name, param, grad, self.learning_rate, symbol, trace, g_symbol, (g_symbol,))
            return

        velocity = self._buffer(name, "velocity", param)
        velocity *= self.momentum
        velocity += grad
        if trace is not None:
            trace.record(f"v_{symbol}", f"velocity of {symbol}", f"μ · v_{symbol} + {g_symbol}", velocity,
                         "update", layer=_layer_of(symbol), inputs=(g_symbol,), operation="momentum",
                         note=f"μ = {self.momentum:g}; v starts at 0, so step 1 equals plain SGD")
        if not self.nesterov:
            self._apply(name, param, velocity, self.learning_rate, symbol, trace, f"v_{symbol}", (f"v_{symbol}",))
            return
        direction = self._work(param, 2)
        np.multiply(velocity, self.momentum, out=direction)
        direction += grad
        if trace is not None:
            trace.record(f"n_{symbol}", f"Nesterov direction of {symbol}", f"{g_symbol} + μ · v_{symbol}",
                         direction, "update", layer=_layer_of(symbol), inputs=(g_symbol, f"v_{symbol}"),
                         operation="nesterov", note=f"μ = {self.momentum:g}")
        self._apply(name, param, direction, self.learning_rate, symbol, trace, f"n_{symbol}", (f"n_{symbol}",))


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with bias correction, at step t = 1, 2, ...:
        m ← β1 · m + (1 - β1) · g
        v ← β2 · v + (1 - β2) · g²
        m̂ = m / (1 - β1^t)
        v̂ = v / (1 - β2^t)
        p ← p - lr · m̂ / (sqrt(v̂) + eps)
    ``weight_decay`` replaces g by ``g + weight_decay · p`` (coupled L2, as
    PyTorch's Adam); :class:`AdamW` decouples it.
    """

    name = "adam"

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, clip_norm: float | None = None) -> None:
        super().__init__(learning_rate, clip_norm)
        self.beta1 = _check_number(beta1, "beta1", minimum=0.0, maximum=1.0, allow_zero=True)
        self.beta2 = _check_number(beta2, "beta2", minimum=0.0, maximum=1.0, allow_zero=True)
        self.eps = _check_number(eps, "eps", minimum=0.0)
        self.weight_decay = _check_number(weight_decay, "weight_decay", minimum=0.0, allow_zero=True)

    def hyperparameters(self) -> dict[str, float | bool | None]:
        return {**super().hyperparameters(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def _decayed_gradient(self, param: FloatArray, grad: FloatArray, symbol: str,
                          trace: Trace | None) -> tuple[FloatArray, str, float]:
        """Return the gradient the moments use, its symbol and the factor applied to the parameter first."""
        return (*self._with_weight_decay(param, grad, self.weight_decay, symbol, trace), 1.0)

    def _update(self, name: str, symbol: str, param: FloatArray, grad: FloatArray, trace: Trace | None) -> None:
        grad, g, scale = self._decayed_gradient(param, grad, symbol, trace)
        layer = _layer_of(symbol)
        t = self.iterations

        # Moments: m and v are updated in place, and the work array contains the new term.
        m = self._buffer(name, "m", param)
        v = self._buffer(name, "v", param)
        term = self._work(param, 2)
        m *= self.beta1
        np.multiply(grad, 1.0 - self.beta1, out=term)
        m += term
        v *= self.beta2
        np.multiply(grad, grad, out=term)
        term *= 1.0 - self.beta2
        v += term

        # Bias correction.
        m_hat = self._work(param, 3)
        v_hat = self._work(param, 4)
        np.divide(m, 1.0 - self.beta1 ** t, out=m_hat)
        np.divide(v, 1.0 - self.beta2 ** t, out=v_hat)
        if trace is not None:
            trace.record(f"m_{symbol}", f"first moment of {symbol}", f"β1 · m_{symbol} + (1 - β1) · {g}", m,
                         "update", layer=layer, inputs=(g,), operation="moment", note=f"β1 = {self.beta1:g}")
            trace.record(f"v_{symbol}", f"second moment of {symbol}", f"β2 · v_{symbol} + (1 - β2) · {g}²", v,
                         "update", layer=layer, inputs=(g,), operation="moment", note=f"β2 = {self.beta2:g}")
            trace.record(f"m_hat_{symbol}", f"bias-corrected first moment of {symbol}",
                         f"m_{symbol} / (1 - β1^{t})", m_hat, "update", layer=layer, inputs=(f"m_{symbol}",),
                         operation="bias_correction", note=f"t = {t}")
            trace.record(f"v_hat_{symbol}", f"bias-corrected second moment of {symbol}",
                         f"v_{symbol} / (1 - β2^{t})", v_hat, "update", layer=layer, inputs=(f"v_{symbol}",),
                         operation="bias_correction", note=f"t = {t}")

        # Direction m̂ / (sqrt(v̂) + eps), computed in the v_hat work array.
        np.sqrt(v_hat, out=v_hat)
        v_hat += self.eps
        np.divide(m_hat, v_hat, out=v_hat)
        self._apply(name, param, v_hat, self.learning_rate, symbol, trace,
                    f"m_hat_{symbol} / (sqrt(v_hat_{symbol}) + eps)", (f"m_hat_{symbol}", f"v_hat_{symbol}"),
                    scale=scale)


class AdamW(Adam):
    """AdamW (Loshchilov and Hutter, 2019): Adam with decoupled weight decay.

    Before the Adam update, and outside the moments:
        p ← p - lr · weight_decay · p
    as PyTorch's AdamW. The default ``weight_decay`` is 0.01, as there.
    """

    name = "adamw"

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.01, clip_norm: float | None = None) -> None:
        super().__init__(learning_rate, beta1, beta2, eps, weight_decay, clip_norm)

    def _decayed_gradient(self, param: FloatArray, grad: FloatArray, symbol: str,
                          trace: Trace | None) -> tuple[FloatArray, str, float]:
        g_symbol = _gradient_symbol(symbol, trace)
        factor = 1.0 - self.learning_rate * self.weight_decay
        if self._pending is not None:
            # The decay is applied with the update, so that no parameter changes before it is checked.
            return grad, g_symbol, factor
        if self.weight_decay:
            param *= factor
            if trace is not None:
                trace.record(f"{symbol}_decayed", f"{symbol} after decoupled weight decay",
                             f"{symbol} · (1 - lr · wd)", param, "update", layer=_layer_of(symbol),
                             inputs=(symbol,), operation="decoupled_weight_decay",
                             note=f"lr = {self.learning_rate:g}, wd = {self.weight_decay:g}")
        return grad, g_symbol, 1.0


class RMSprop(Optimizer):
    """RMSprop (Tieleman and Hinton, 2012), as PyTorch's RMSprop without momentum or centring:
        v ← α · v + (1 - α) · g²
        p ← p - lr · g / (sqrt(v) + eps)
    ``weight_decay`` replaces g by ``g + weight_decay · p`` first.
    """

    name = "rmsprop"

    def __init__(self, learning_rate: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 clip_norm: float | None = None) -> None:
        super().__init__(learning_rate, clip_norm)
        self.alpha = _check_number(alpha, "alpha", minimum=0.0, maximum=1.0, allow_zero=True)
        self.eps = _check_number(eps, "eps", minimum=0.0)
        self.weight_decay = _check_number(weight_decay, "weight_decay", minimum=0.0, allow_zero=True)

    def hyperparameters(self) -> dict[str, float | bool | None]:
        return {**super().hyperparameters(), "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay}

    def _update(self, name: str, symbol: str, param: FloatArray, grad: FloatArray, trace: Trace | None) -> None:
        grad, g = self._with_weight_decay(param, grad, self.weight_decay, symbol, trace)
        v = self._buffer(name, "v", param)
        term = self._work(param, 2)
        v *= self.alpha
        np.multiply(grad, grad, out=term)
        term *= 1.0 - self.alpha
        v += term
        if trace is not None:
            trace.record(f"v_{symbol}", f"mean square of {g}", f"α · v_{symbol} + (1 - α) · {g}²", v,
                         "update", layer=_layer_of(symbol), inputs=(g,), operation="moment",
                         note=f"α = {self.alpha:g}")

        # Direction g / (sqrt(v) + eps), computed in the work array.
        np.sqrt(v, out=term)
        term += self.eps
        np.divide(grad, term, out=term)
        self._apply(name, param, term, self.learning_rate, symbol, trace,
                    f"{g} / (sqrt(v_{symbol}) + eps)", (g, f"v_{symbol}"))


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


# The built-in optimizers, whose updates are all elementwise (see _updates_elementwise), and the
# methods that their updates call with each parameter's name and arrays, or with the flat arrays.
_ELEMENTWISE_OPTIMIZERS = frozenset({SGD, Adam, AdamW, RMSprop})
_PER_PARAMETER_METHODS = frozenset({
    "_update", "_decayed_gradient", "_with_weight_decay", "_apply", "_buffer", "_work", "_change_array",
})


def get_optimizer(name: str | Optimizer, **options: Any) -> Optimizer:
    """Return an optimizer by name (``sgd``, ``adam``, ``adamw``, ``rmsprop``)."""
    if isinstance(name, Optimizer):
        return name
    if not isinstance(name, str):
        raise InvalidTypeError(
            f"optimizer={name!r} ({type(name).__name__}) is neither a name nor an Optimizer; "
            f"pass one of {', '.join(sorted(OPTIMIZERS))} or an object such as SGD(learning_rate=0.01)"
        )
    key = name.lower()
    if key not in OPTIMIZERS:
        valid = ", ".join(sorted(OPTIMIZERS))
        raise InvalidInputError(f"optimizer={name!r} is not known; use one of: {valid}")
    cls = OPTIMIZERS[key]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InvalidInputError(
            f"the {key} optimizer has no option(s) {', '.join(unknown)}; its options are: {', '.join(accepted)}"
        )
    return cls(**options)
