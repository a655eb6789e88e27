"""Optimizers: update parameters in place from their gradients.

Every optimizer keeps its state (velocity, moment estimates, step count) in
``self.state``, keyed by the parameter's name (``dense1.W``), so it can be
printed, saved and restored. ``step(slots, trace)`` updates each parameter in
place; when a trace is given it also records the state and the new values.

A *slot* is ``(name, symbol, param, grad)``: the network's parameter name,
its trace symbol (``W1``), and the parameter and gradient arrays.
"""

import math

import numpy as np

from .errors import InvalidInputError, InvalidTypeError


def _check_number(value, argument, *, minimum=None, maximum=None, strict=True, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"{argument}={value!r} ({type(value).__name__}) must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInputError(f"{argument}={value} must be a finite number")
    if minimum is not None:
        too_small = value < minimum or (strict and value == minimum and not allow_zero)
        if too_small:
            relation = ">" if strict and not allow_zero else ">="
            raise InvalidInputError(f"{argument}={value} must be {relation} {minimum}")
    if maximum is not None and value >= maximum:
        raise InvalidInputError(f"{argument}={value} must be < {maximum}")
    return value


class Optimizer:
    """Base class: learning rate, optional gradient clipping and state.

    Parameters
    ----------
    learning_rate : float
        Step size, > 0. A schedule may change it between epochs.
    clip_norm : float, optional
        When set, all gradients are scaled by ``clip_norm / ||g||`` whenever
        their global L2 norm ``||g||`` exceeds it.
    """

    name = "optimizer"

    def __init__(self, learning_rate=0.01, clip_norm=None):
        self.learning_rate = _check_number(learning_rate, "learning_rate", minimum=0.0)
        self.clip_norm = None if clip_norm is None else _check_number(clip_norm, "clip_norm", minimum=0.0)
        self.state = {}
        self.iterations = 0
        self._scratch = {}

    def hyperparameters(self):
        return {"learning_rate": self.learning_rate, "clip_norm": self.clip_norm}

    def config(self):
        return {"name": self.name, **self.hyperparameters()}

    def __repr__(self):
        shown = ", ".join(f"{k}={v:g}" for k, v in self.hyperparameters().items() if v not in (None, False))
        return f"{type(self).__name__}({shown})"

    def step(self, slots, trace=None):
        """Update every parameter in ``slots`` in place."""
        self.iterations += 1
        if self.clip_norm is not None:
            self._clip(slots, trace)
        for name, symbol, param, grad in slots:
            self._update(name, symbol, param, grad, trace)

    def _clip(self, slots, trace):
        total = math.sqrt(sum(float(np.vdot(grad, grad)) for _, _, _, grad in slots))
        scale = 1.0
        if total > self.clip_norm:
            scale = self.clip_norm / total
            for _, _, _, grad in slots:
                grad *= scale
        if trace is not None:
            trace.record("||g||", "global gradient norm before clipping", "sqrt(Σ g²) over every gradient",
                         total, "update", operation="norm")
            trace.record("clip_scale", "gradient clipping factor", f"min(1, {self.clip_norm:g} / ||g||)",
                         scale, "update", operation="scale")

    def _update(self, name, symbol, param, grad, trace):
        raise NotImplementedError

    def _buffer(self, name, key, like):
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = np.zeros_like(like)
        return slot[key]

    def _apply(self, param, direction, learning_rate, symbol, trace, direction_symbol, formula_inputs):
        """Do ``param -= learning_rate * direction`` in place and record it."""
        # One reusable work array per shape and dtype keeps the hot loop free of allocations.
        key = (param.shape, param.dtype.str)
        scratch = self._scratch.get(key)
        if scratch is None:
            scratch = self._scratch[key] = np.empty_like(param)
        np.multiply(direction, learning_rate, out=scratch)
        param -= scratch
        if trace is not None:
            layer = int(symbol[1:]) if symbol[1:].isdigit() else 0
            described = trace.parameter_names.get(symbol, symbol)
            trace.record(f"{symbol}_new", f"updated {described}", f"{symbol} - lr · {direction_symbol}",
                         param, "update", layer=layer, inputs=(symbol, *formula_inputs),
                         operation="sgd_update", note=f"lr = {learning_rate:g}")

    def state_dict(self):
        """Return the state as ``{name: {key: array}}`` plus the step count."""
        state = {name: dict(values) for name, values in self.state.items()}
        return {"iterations": self.iterations, "state": state, "config": self.config()}

    def load_state_dict(self, saved):
        self.iterations = int(saved["iterations"])
        self.state = {name: {k: np.array(v) for k, v in values.items()} for name, values in saved["state"].items()}


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Plain (momentum = 0):
        p ← p - lr · (g + weight_decay · p)
    Heavy-ball momentum (Polyak, 1964), in PyTorch's form, velocity starting at 0
    so that the first step equals plain SGD:
        v ← μ · v + g
        p ← p - lr · v
    Nesterov momentum (Sutskever et al., 2013, in PyTorch's form):
        v ← μ · v + g
        p ← p - lr · (g + μ · v)
    ``weight_decay`` adds the L2 gradient ``weight_decay · p`` to g first.
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, clip_norm=None):
        super().__init__(learning_rate, clip_norm)
        self.momentum = _check_number(momentum, "momentum", minimum=0.0, maximum=1.0, allow_zero=True)
        if nesterov and self.momentum == 0.0:
            raise InvalidInputError("nesterov=True needs momentum > 0; set momentum (e.g. 0.9) or nesterov=False")
        self.nesterov = bool(nesterov)
        self.weight_decay = _check_number(weight_decay, "weight_decay", minimum=0.0, allow_zero=True)

    def hyperparameters(self):
        return {**super().hyperparameters(), "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def _update(self, name, symbol, param, grad, trace):
        g_symbol = f"d{symbol}"
        if self.weight_decay:
            grad = grad + self.weight_decay * param
            g_symbol = f"(d{symbol} + wd · {symbol})"
        if self.momentum == 0.0:
            self._apply(param, grad, self.learning_rate, symbol, trace, g_symbol, (f"d{symbol}",))
            return
        velocity = self._buffer(name, "velocity", param)
        velocity *= self.momentum
        velocity += grad
        if trace is not None:
            trace.record(f"v_{symbol}", f"velocity of {symbol}", f"μ · v_{symbol} + {g_symbol}", velocity,
                         "update", inputs=(f"d{symbol}",), operation="momentum", note=f"μ = {self.momentum:g}")
        if self.nesterov:
            direction = grad + self.momentum * velocity
            self._apply(param, direction, self.learning_rate, symbol, trace,
                        f"({g_symbol} + μ · v_{symbol})", (f"d{symbol}", f"v_{symbol}"))
        else:
            self._apply(param, velocity, self.learning_rate, symbol, trace, f"v_{symbol}", (f"v_{symbol}",))


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with bias correction:
        m ← β1 · m + (1 - β1) · g
        v ← β2 · v + (1 - β2) · g²
        m̂ = m / (1 - β1^t)
        v̂ = v / (1 - β2^t)
        p ← p - lr · m̂ / (sqrt(v̂) + eps)
    ``weight_decay`` adds ``weight_decay · p`` to g (L2, coupled); AdamW
    decouples it.
    """

    name = "adam"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, clip_norm=None):
        super().__init__(learning_rate, clip_norm)
        self.beta1 = _check_number(beta1, "beta1", minimum=0.0, maximum=1.0, allow_zero=True)
        self.beta2 = _check_number(beta2, "beta2", minimum=0.0, maximum=1.0, allow_zero=True)
        self.eps = _check_number(eps, "eps", minimum=0.0)
        self.weight_decay = _check_number(weight_decay, "weight_decay", minimum=0.0, allow_zero=True)

    def hyperparameters(self):
        return {**super().hyperparameters(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def _decay(self, param, grad, learning_rate):
        if self.weight_decay:
            return grad + self.weight_decay * param
        return grad

    def _update(self, name, symbol, param, grad, trace):
        grad = self._decay(param, grad, self.learning_rate)
        m = self._buffer(name, "m", param)
        v = self._buffer(name, "v", param)
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * (grad * grad)
        t = self.iterations
        m_hat = m / (1.0 - self.beta1 ** t)
        v_hat = v / (1.0 - self.beta2 ** t)
        direction = m_hat / (np.sqrt(v_hat) + self.eps)
        if trace is not None:
            g = f"d{symbol}"
            trace.record(f"m_{symbol}", f"first moment of {symbol}", f"β1 · m + (1 - β1) · {g}", m, "update",
                         inputs=(g,), operation="moment")
            trace.record(f"v_{symbol}", f"second moment of {symbol}", f"β2 · v + (1 - β2) · {g}²", v, "update",
                         inputs=(g,), operation="moment")
            trace.record(f"m_hat_{symbol}", f"bias-corrected first moment of {symbol}", f"m / (1 - β1^{t})",
                         m_hat, "update", inputs=(f"m_{symbol}",), operation="bias_correction")
            trace.record(f"v_hat_{symbol}", f"bias-corrected second moment of {symbol}", f"v / (1 - β2^{t})",
                         v_hat, "update", inputs=(f"v_{symbol}",), operation="bias_correction")
        self._apply(param, direction, self.learning_rate, symbol, trace,
                    f"m_hat_{symbol} / (sqrt(v_hat_{symbol}) + eps)", (f"m_hat_{symbol}", f"v_hat_{symbol}"))


class AdamW(Adam):
    """AdamW (Loshchilov and Hutter, 2019): Adam with decoupled weight decay,
        p ← p - lr · weight_decay · p
    applied before the Adam update, instead of adding the decay to g.
    """

    name = "adamw"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, clip_norm=None):
        super().__init__(learning_rate, beta1, beta2, eps, weight_decay, clip_norm)

    def _decay(self, param, grad, learning_rate):
        if self.weight_decay:
            param *= 1.0 - learning_rate * self.weight_decay
        return grad


class RMSprop(Optimizer):
    """RMSprop (Tieleman and Hinton, 2012), as in PyTorch without momentum:
        v ← α · v + (1 - α) · g²
        p ← p - lr · g / (sqrt(v) + eps)
    """

    name = "rmsprop"

    def __init__(self, learning_rate=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, clip_norm=None):
        super().__init__(learning_rate, clip_norm)
        self.alpha = _check_number(alpha, "alpha", minimum=0.0, maximum=1.0, allow_zero=True)
        self.eps = _check_number(eps, "eps", minimum=0.0)
        self.weight_decay = _check_number(weight_decay, "weight_decay", minimum=0.0, allow_zero=True)

    def hyperparameters(self):
        return {**super().hyperparameters(), "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay}

    def _update(self, name, symbol, param, grad, trace):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        v = self._buffer(name, "v", param)
        v *= self.alpha
        v += (1.0 - self.alpha) * (grad * grad)
        direction = grad / (np.sqrt(v) + self.eps)
        if trace is not None:
            trace.record(f"v_{symbol}", f"mean square of d{symbol}", f"α · v + (1 - α) · d{symbol}²", v,
                         "update", inputs=(f"d{symbol}",), operation="moment")
        self._apply(param, direction, self.learning_rate, symbol, trace,
                    f"d{symbol} / (sqrt(v_{symbol}) + eps)", (f"d{symbol}", f"v_{symbol}"))


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def get_optimizer(name, **options):
    """Return an optimizer by name (``sgd``, ``adam``, ``adamw``, ``rmsprop``)."""
    if isinstance(name, Optimizer):
        return name
    key = str(name).lower()
    if key not in OPTIMIZERS:
        valid = ", ".join(sorted(OPTIMIZERS))
        raise InvalidInputError(f"optimizer={name!r} is not known; use one of: {valid}")
    return OPTIMIZERS[key](**options)
