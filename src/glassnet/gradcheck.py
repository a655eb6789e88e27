"""Finite-difference check of every parameter's analytic gradient.

For each parameter entry p, the fourth-order central difference
    (-L(p + 2 eps) + 8 L(p + eps) - 8 L(p - eps) + L(p - 2 eps)) / (12 eps)
is compared with the gradient from ``backward``. Its truncation error is
O(eps⁴) instead of the two-point formula's O(eps²), which allows a larger
eps (1e-4 by default) and so a smaller rounding error, about 1e-12 · |L|. The check runs on a float64
copy of the network, because in float32 the rounding error of L (about 1e-7
relative) swamps the difference quotient.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from .losses import get_loss


@dataclass
class ParameterCheck:
    """Comparison of one parameter's analytic and numerical gradient."""

    name: str
    symbol: str
    shape: tuple
    max_abs_error: float
    relative_error: float
    worst_index: tuple
    analytic: float
    numerical: float
    passed: bool


@dataclass
class GradcheckReport:
    """Per-parameter results of :func:`gradcheck`."""

    rows: list = field(default_factory=list)
    eps: float = 1e-4
    tolerance: float = 1e-7

    @property
    def passed(self):
        return all(row.passed for row in self.rows)

    @property
    def max_relative_error(self):
        return max((row.relative_error for row in self.rows), default=0.0)

    def __bool__(self):
        return self.passed

    def failures(self):
        return [row for row in self.rows if not row.passed]

    def to_dict(self):
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

    def __str__(self):
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

    def _repr_html_(self):
        from .render.html import gradcheck_html

        return gradcheck_html(self)


def gradcheck(network, X, t, loss="half-squared-error", *, eps=1e-4, tolerance=1e-7):
    """Compare every analytic gradient of ``network`` with central differences.

    Parameters
    ----------
    network : Sequential
        Left unchanged; the check runs on a float64 copy.
    X : array-like of shape (batch, in_features)
    t : array-like of targets, as for :meth:`Sequential.step`
    loss : str or Loss
    eps : float
        Step of the central difference. A ReLU pre-activation within 2·eps
        of 0 makes the difference quotient cross the kink and fail.
    tolerance : float
        Largest accepted relative error, ``max|analytic - numerical| /
        max(max|analytic|, max|numerical|, 1e-8)`` over the parameter's entries.

    Returns
    -------
    GradcheckReport
        One row per parameter (``dense1.W``...); truthy when all pass.
    """
    loss = get_loss(loss)
    if network.dtype != np.float64 or np.asarray(X).dtype == np.float32:
        warnings.warn(
            "gradcheck was given float32 data or a float32 network; the check runs in a float64 copy, "
            "because float32 rounding (about 1e-7) would dominate the finite differences",
            stacklevel=2,
        )
    checked = network.copy(dtype="float64")
    checked.eval()  # dropout masks would make the loss random
    X64 = checked.prepare_input(X)
    t64 = loss.prepare_targets(t, (X64.shape[0], checked.out_features), np.float64)
    checked.loss_and_backward(X64, t64, loss)
    analytic = {name: grad.copy() for name, _, _, grad in checked.slots()}

    report = GradcheckReport(eps=eps, tolerance=tolerance)
    for name, symbol, param, _ in checked.slots():
        numerical = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            original = param[index]
            values = []
            for offset in (2 * eps, eps, -eps, -2 * eps):
                param[index] = original + offset
                values.append(_loss_only(checked, X64, t64, loss))
            param[index] = original
            plus2, plus1, minus1, minus2 = values
            numerical[index] = (-plus2 + 8 * plus1 - 8 * minus1 + minus2) / (12 * eps)
        error = np.abs(analytic[name] - numerical)
        worst = np.unravel_index(int(np.argmax(error)), error.shape) if error.size else ()
        max_abs = float(error.max()) if error.size else 0.0
        scale = max(float(np.abs(analytic[name]).max(initial=0.0)), float(np.abs(numerical).max(initial=0.0)), 1e-8)
        relative = max_abs / scale
        report.rows.append(ParameterCheck(
            name=name, symbol=symbol, shape=param.shape, max_abs_error=max_abs, relative_error=relative,
            worst_index=tuple(int(i) for i in worst),
            analytic=float(analytic[name][worst]) if error.size else 0.0,
            numerical=float(numerical[worst]) if error.size else 0.0,
            passed=relative <= tolerance,
        ))
    return report


def _loss_only(network, X, t, loss):
    y = network.forward(X)
    if network.is_fused(loss):
        return loss.value_from_logits(network.layers[-1].z, t)
    return loss.value(y, t)
