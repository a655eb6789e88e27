"""Finite-difference check of every parameter's analytic gradient.

For each parameter entry p, the sixth-order central difference
    (L(p+3h) - 9 L(p+2h) + 45 L(p+h) - 45 L(p-h) + 9 L(p-2h) - L(p-3h)) / (60 h)
is compared with the gradient from ``backward``. Its truncation error is
O(h⁶) instead of the two-point formula's O(h²), which allows a larger step
(h = eps = 1e-3 by default) and so a smaller rounding error, about
3e-13 · |L|, small enough to check gradients of 1e-5 to a relative 1e-7. The check runs on a float64
copy of the network, because in float32 the rounding error of L (about 1e-7
relative) swamps the difference quotient.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np
from numpy.typing import ArrayLike

from ._typing import FloatArray, JSONDict
from .errors import InvalidInputError
from .losses import Loss, get_loss
from .validation import check_positive_number

if TYPE_CHECKING:
    from .layers import Activation
    from .network import Sequential


# Gradients smaller than this are compared in absolute terms: below it the
# finite difference's rounding error (about 1e-13) is no longer negligible.
GRADIENT_FLOOR = 1e-5


# Every loss class has value(y, t), and the ones that fuse with their output
# activation have value_from_logits(z, t), but the Loss base class declares neither.
class _ValueLoss(Protocol):
    def value(self, y: FloatArray, t: FloatArray) -> float: ...


class _FusedLoss(Protocol):
    def value_from_logits(self, z: FloatArray, t: FloatArray) -> float: ...


@dataclass
class ParameterCheck:
    """Comparison of one parameter's analytic and numerical gradient."""

    name: str
    symbol: str
    shape: tuple[int, ...]
    max_abs_error: float
    relative_error: float
    worst_index: tuple[int, ...]
    analytic: float
    numerical: float
    passed: bool


@dataclass
class GradcheckReport:
    """Per-parameter results of :func:`gradcheck`."""

    rows: list[ParameterCheck] = field(default_factory=list)
    eps: float = 1e-3
    tolerance: float = 1e-7

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    @property
    def max_relative_error(self) -> float:
        return max((row.relative_error for row in self.rows), default=0.0)

    def __bool__(self) -> bool:
        return self.passed

    def failures(self) -> list[ParameterCheck]:
        return [row for row in self.rows if not row.passed]

    def to_dict(self) -> JSONDict:
        return {
            "passed": self.passed,
            "eps": self.eps,
            "tolerance": self.tolerance,
            "parameters": [
                {
                    "name": row.name,
                    "symbol": row.symbol,
                    "shape": list(row.shape),
                    "max_abs_error": row.max_abs_error,
                    "relative_error": row.relative_error,
                    "worst_index": list(row.worst_index),
                    "analytic": row.analytic,
                    "numerical": row.numerical,
                    "passed": row.passed,
                }
                for row in self.rows
            ],
        }

    def __str__(self) -> str:
        lines = [f"{'parameter':<12} {'shape':<10} {'max abs error':>14} {'relative error':>15}  result"]
        for row in self.rows:
            result = "pass" if row.passed else (
                f"FAIL at {row.worst_index}: analytic {row.analytic:.10g}, numerical {row.numerical:.10g}"
            )
            lines.append(f"{row.name:<12} {str(row.shape):<10} {row.max_abs_error:>14.3e} "
                         f"{row.relative_error:>15.3e}  {result}")
        lines.append(f"eps = {self.eps:g}, tolerance = {self.tolerance:g}: "
                     f"{'all gradients pass' if self.passed else 'some gradients FAIL'}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .render.html import gradcheck_html

        return gradcheck_html(self)


def gradcheck(network: Sequential, X: ArrayLike, t: ArrayLike, loss: str | Loss = "half-squared-error", *,
              eps: float = 1e-3, tolerance: float = 1e-7) -> GradcheckReport:
    """Compare every analytic gradient of ``network`` with central differences.

    Parameters
    ----------
    network : Sequential
        Left unchanged; the check runs on a float64 copy.
    X : array-like of shape (batch, in_features)
    t : array-like of targets, as for :meth:`Sequential.step`
    loss : str or Loss
    eps : float
        Step of the central difference. A ReLU pre-activation within about 3·eps
        of 0 makes the difference quotient cross the kink and fail.
    tolerance : float
        Largest accepted relative error, ``max|analytic - numerical| /
        max(max|analytic|, max|numerical|, 1e-5)`` over the parameter's entries.
        The floor of 1e-5 means a parameter whose gradient is (nearly) zero
        passes when the difference quotient is within 1e-12 of it, the size of
        its own rounding error.

    Returns
    -------
    GradcheckReport
        One row per parameter (``dense1.W``...); truthy when all pass.

    Notes
    -----
    The check runs six forward passes of the batch per parameter entry, so
    its time grows with the parameter count times the cost of one forward
    pass: a 784-256-128-10 network has 235,146 parameters and needs about
    1.4 million forward passes. Check a narrower network of the same
    layer kinds to test a layer's gradients.
    """
    eps = check_positive_number(eps, "eps")
    tolerance = check_positive_number(tolerance, "tolerance")
    loss_function: Loss = get_loss(loss)
    if network.dtype != np.float64 or np.asarray(X).dtype == np.float32:
        warnings.warn(
            "gradcheck was given float32 data or a float32 network; the check runs in a float64 copy, "
            "because float32 rounding (about 1e-7) would dominate the finite differences",
            stacklevel=2,
        )
    checked = network.copy(dtype="float64")
    checked.eval()  # dropout masks would make the loss random
    X64 = checked.prepare_input(X)
    if X64.shape[0] == 0:
        raise InvalidInputError(f"X is empty (shape {X64.shape}); the gradient check needs at least one sample")
    t64 = loss_function.prepare_targets(t, (X64.shape[0], checked.out_features), np.float64)
    checked.loss_and_backward(X64, t64, loss_function)
    analytic = {name: grad.copy() for name, _, _, grad in checked.slots()}

    report = GradcheckReport(eps=eps, tolerance=tolerance)
    for name, symbol, param, _ in checked.slots():
        numerical = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            original = param[index]
            values = []
            for offset in (3 * eps, 2 * eps, eps, -eps, -2 * eps, -3 * eps):
                param[index] = original + offset
                values.append(_loss_only(checked, X64, t64, loss_function))
            param[index] = original
            plus3, plus2, plus1, minus1, minus2, minus3 = values
            numerical[index] = (plus3 - 9 * plus2 + 45 * plus1 - 45 * minus1 + 9 * minus2 - minus3) / (60 * eps)
        error = np.abs(analytic[name] - numerical)
        worst = np.unravel_index(int(np.argmax(error)), error.shape) if error.size else ()
        max_abs = float(error.max()) if error.size else 0.0
        scale = max(float(np.abs(analytic[name]).max(initial=0.0)), float(np.abs(numerical).max(initial=0.0)),
                    GRADIENT_FLOOR)
        relative = max_abs / scale
        report.rows.append(ParameterCheck(
            name=name, symbol=symbol, shape=param.shape, max_abs_error=max_abs, relative_error=relative,
            worst_index=tuple(int(i) for i in worst),
            analytic=float(analytic[name][worst]) if error.size else 0.0,
            numerical=float(numerical[worst]) if error.size else 0.0,
            passed=relative <= tolerance,
        ))
    return report


def _loss_only(network: Sequential, X: FloatArray, t: FloatArray, loss: Loss) -> float:
    y = network.forward(X)
    if network.is_fused(loss):
        # The fused output layer is an activation, and forward has just set its z.
        logits = cast("FloatArray", cast("Activation", network.layers[-1]).z)
        return cast(_FusedLoss, loss).value_from_logits(logits, t)
    return cast(_ValueLoss, loss).value(y, t)
