"""Losses: value and gradient, with the fused output-activation forms.

Reduction over the batch (``reduction``):

* ``"mean"`` (default) divides by the number of terms: for the squared-error
  losses and binary cross-entropy that is every element, N samples × K
  outputs, as PyTorch's ``MSELoss`` and ``BCELoss`` do; for categorical
  cross-entropy, which already sums over the K classes of a sample, it is N.
* ``"sum"`` adds every term, e.g. the classic per-sample total error
  E = Σ_k ½(t_k - y_k)².

The divisor is written ``N`` in formulas and shown with its value in traces.

Fused forms: a network ending in Sigmoid with binary cross-entropy, or in
Softmax with categorical cross-entropy, differentiates activation and loss
together. The output activation's derivative cancels and
``delta = dL/dz = (y - t) / N``; the loss value is computed from the logits z
with ``log1p``/log-softmax, so ``log(0)`` never occurs.
"""

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import activations as act
from .errors import InvalidInputError, InvalidTypeError
from ._typing import AnyArray, FloatArray
from .validation import all_finite, check_sample_counts

REDUCTIONS = ("mean", "sum")


def _reject_missing(t: object) -> None:
    if t is None:
        raise InvalidTypeError("targets are None; expected one target row (or class label) per input row")


class Loss:
    """Base class. ``value(y, t)`` is a float, ``gradient(y, t)`` is dL/dy."""

    name = "loss"
    fuses_with: str | None = None  # kind of the output activation whose derivative cancels
    formula = ""
    gradient_formula = ""
    formula_single = ""
    gradient_formula_single = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A loss may compute its value and gradient together. A subclass (or a mixin) that replaces
        # value or gradient below that shortcut gets this class's value_and_gradient, which calls both.
        owner = next(base for base in cls.__mro__ if "value_and_gradient" in vars(base))
        if cls.value is not getattr(owner, "value") or cls.gradient is not getattr(owner, "gradient"):
            cls.value_and_gradient = Loss.value_and_gradient  # type: ignore[method-assign]

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in REDUCTIONS:
            raise InvalidInputError(
                f"reduction={reduction!r} is not known; use 'mean' (average over the batch) or 'sum'"
            )
        self.reduction = reduction

    def divisor(self, y: AnyArray) -> int:
        """Number the summed loss is divided by: N·K, N, or 1 for ``sum``."""
        if self.reduction == "sum":
            return 1
        return y.size

    def prepare_targets(self, t: ArrayLike | None, y_shape: tuple[int, ...], dtype: DTypeLike) -> FloatArray:
        """Return targets as an array of the output's shape and dtype, or raise."""
        if type(t) is np.ndarray and t.shape == y_shape and t.dtype == dtype and all_finite(t):
            return t  # already what the loss needs, as in a training loop
        _reject_missing(t)
        t = np.asarray(t)
        if t.dtype.kind not in "biuf":
            raise InvalidInputError(
                f"targets have dtype {t.dtype}; {self.name} needs numbers. "
                "Encode labels as numbers (glassnet's data loaders do this for CSV files)"
            )
        if t.ndim == 1 and len(y_shape) == 2 and y_shape[1] == 1:
            t = t.reshape(-1, 1)
        if t.ndim >= 1:
            check_sample_counts(y_shape[0], t.shape[0], "X", "targets")
        if t.shape != tuple(y_shape):
            raise InvalidInputError(
                f"targets have shape {t.shape}; the network's output has shape {tuple(y_shape)}. "
                "Give one target row per input row with one column per output unit"
            )
        if not all_finite(t):
            row, column = np.argwhere(~np.isfinite(t))[0]
            raise InvalidInputError(
                f"targets contain {t[row, column]} at row {row}, column {column}; "
                "remove or fill missing targets before training"
            )
        return t.astype(dtype, copy=False)

    def value(self, y: FloatArray, t: FloatArray) -> float:
        """Return the loss of outputs ``y`` against prepared targets ``t``."""
        raise NotImplementedError

    def gradient(self, y: FloatArray, t: FloatArray) -> FloatArray:
        """Return dL/dy, of the shape of ``y``."""
        raise NotImplementedError

    def value_from_logits(self, z: FloatArray, t: FloatArray, shifted: FloatArray | None = None,
                          log_sum: FloatArray | None = None) -> float:
        """Return the loss from the output layer's logits ``z``, for a loss fused with its activation.

        ``shifted`` and ``log_sum`` are the Softmax layer's cache, which a loss
        fused with softmax may reuse.
        """
        raise NotImplementedError(
            f"{self.name} has no fused form with an output activation, so compute value(y, t) on the outputs instead"
        )

    def value_and_gradient(self, y: FloatArray, t: FloatArray) -> tuple[float, FloatArray]:
        """Return ``(value(y, t), gradient(y, t))``; a loss may share work between the two."""
        return self.value(y, t), self.gradient(y, t)

    def describe(self, divisor: int) -> tuple[str, str]:
        """Return (loss formula, gradient formula) as text; ``/ N`` is dropped when N is 1."""
        if divisor == 1:
            return self.formula_single, self.gradient_formula_single
        return self.formula, self.gradient_formula

    def config(self) -> dict[str, str]:
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class HalfSquaredError(Loss):
    """``L = (1/N) Σ ½(y - t)²``; ``dL/dy = (y - t) / N``.

    With one sample and one output this is the classic ``½(y - t)²`` whose
    derivative is simply ``y - t``.
    """

    name = "half-squared-error"
    formula = "½ Σ (y - t)² / N"
    gradient_formula = "(y - t) / N"
    formula_single = "½ Σ (y - t)²"
    gradient_formula_single = "y - t"

    def value(self, y: FloatArray, t: FloatArray) -> float:
        diff = y - t
        return 0.5 * float(np.vdot(diff, diff)) / self.divisor(y)

    def gradient(self, y: FloatArray, t: FloatArray) -> FloatArray:
        grad = y - t
        divisor = self.divisor(y)
        if divisor != 1:
            grad /= divisor
        return grad

    def value_and_gradient(self, y: FloatArray, t: FloatArray) -> tuple[float, FloatArray]:
        # Shares y - t between the two (see Loss.__init_subclass__ for subclasses).
        grad = y - t
        divisor = self.divisor(y)
        value = 0.5 * float(np.vdot(grad, grad)) / divisor
        if divisor != 1:
            grad /= divisor
        return value, grad


class MeanSquaredError(Loss):
    """``L = (1/N) Σ (y - t)²``; ``dL/dy = 2 (y - t) / N``."""

    name = "mean-squared-error"
    formula = "Σ (y - t)² / N"
    gradient_formula = "2 (y - t) / N"
    formula_single = "Σ (y - t)²"
    gradient_formula_single = "2 (y - t)"

    def value(self, y: FloatArray, t: FloatArray) -> float:
        diff = y - t
        return float(np.vdot(diff, diff)) / self.divisor(y)

    def gradient(self, y: FloatArray, t: FloatArray) -> FloatArray:
        grad = y - t
        grad *= 2.0 / self.divisor(y)
        return grad


class BinaryCrossEntropy(Loss):
    """``L = -(1/N) Σ [t log y + (1 - t) log(1 - y)]`` for y in (0, 1).

    On probabilities, y is clipped to ``[eps, 1 - eps]`` (eps = 1e-15), so a
    confident wrong prediction costs ``-log(1e-15) ≈ 34.54`` per element
    instead of infinity. After a Sigmoid layer the network uses the fused form
    instead, computed from the logit z: ``L = max(z, 0) - z t + log(1 + exp(-|z|))``
    and ``delta = (y - t) / N``, with no clipping.
    """

    name = "binary-cross-entropy"
    fuses_with = "sigmoid"
    formula = "-Σ [t log y + (1 - t) log(1 - y)] / N"
    gradient_formula = "(y - t) / (y (1 - y)) / N"
    formula_single = "-Σ [t log y + (1 - t) log(1 - y)]"
    gradient_formula_single = "(y - t) / (y (1 - y))"
    eps = 1e-15

    def prepare_targets(self, t: ArrayLike | None, y_shape: tuple[int, ...], dtype: DTypeLike) -> FloatArray:
        t = super().prepare_targets(t, y_shape, dtype)
        outside = (t < 0) | (t > 1)
        if np.any(outside):
            row, column = np.argwhere(outside)[0]
            raise InvalidInputError(
                f"binary-cross-entropy needs targets in [0, 1]; got {t[row, column]:g} at row {row}, "
                f"column {column} (values range from {t.min():g} to {t.max():g}). Encode the classes as 0 and 1"
            )
        return t

    def value(self, y: FloatArray, t: FloatArray) -> float:
        p = np.clip(y, self.eps, 1.0 - self.eps)
        total = -np.sum(t * np.log(p) + (1.0 - t) * np.log1p(-p))
        return float(total) / self.divisor(y)

    def gradient(self, y: FloatArray, t: FloatArray) -> FloatArray:
        p = np.clip(y, self.eps, 1.0 - self.eps)
        return (p - t) / (p * (1.0 - p)) / self.divisor(y)

    def value_from_logits(self, z: FloatArray, t: FloatArray, shifted: FloatArray | None = None,
                          log_sum: FloatArray | None = None) -> float:
        """Return the loss from the logits ``z``. The Softmax cache ``shifted`` and ``log_sum`` is not used."""
        total = np.sum(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
        return float(total) / self.divisor(z)


class CategoricalCrossEntropy(Loss):
    """``L = -(1/N) Σ_n Σ_k t_nk log y_nk`` for rows of probabilities y.

    Targets are one-hot rows or integer class labels of shape (N,). On
    probabilities y is clipped below at 1e-15; after a Softmax layer the
    network uses the fused form ``L = -(1/N) Σ t · log_softmax(z)`` and
    ``delta = (y - t) / N``.
    """

    name = "categorical-cross-entropy"
    fuses_with = "softmax"
    formula = "-Σ t log y / N"
    gradient_formula = "-t / y / N"
    formula_single = "-Σ t log y"
    gradient_formula_single = "-t / y"
    eps = 1e-15

    def divisor(self, y: AnyArray) -> int:
        if self.reduction == "sum":
            return 1
        rows: int = y.shape[0]
        return rows

    def prepare_targets(self, t: ArrayLike | None, y_shape: tuple[int, ...], dtype: DTypeLike) -> FloatArray:
        _reject_missing(t)
        t = np.asarray(t)
        n_classes = y_shape[1]
        if t.ndim == 1 and t.dtype.kind in "biuf":
            labels = t
            if t.dtype.kind == "f":
                with np.errstate(invalid="ignore"):
                    whole = np.isfinite(t) & (np.mod(t, 1) == 0)
                if not np.all(whole):
                    row = int(np.argmin(whole))
                    raise InvalidInputError(
                        f"targets contain {t[row]} at row {row}; 1-D targets for categorical-cross-entropy are "
                        "class labels and must be whole numbers 0..n_classes-1. Give one-hot rows of shape "
                        "(N, n_classes) for soft targets"
                    )
            check_sample_counts(y_shape[0], t.shape[0], "X", "targets")
            if t.size and (labels.min() < 0 or labels.max() >= n_classes):
                raise InvalidInputError(
                    f"class labels range from {labels.min()} to {labels.max()}; the network has {n_classes} "
                    f"outputs, so labels must be in 0..{n_classes - 1}"
                )
            onehot = np.zeros((t.shape[0], n_classes), dtype=dtype)
            onehot[np.arange(t.shape[0]), labels.astype(np.intp)] = 1
            return onehot
        t = super().prepare_targets(t, y_shape, dtype)
        if np.any(t < 0):
            raise InvalidInputError("categorical-cross-entropy targets must be >= 0 (one-hot rows or class labels)")
        return t

    def value(self, y: FloatArray, t: FloatArray) -> float:
        p = np.maximum(y, self.eps)
        return float(-np.sum(t * np.log(p))) / self.divisor(y)

    def gradient(self, y: FloatArray, t: FloatArray) -> FloatArray:
        p = np.maximum(y, self.eps)
        return -t / p / self.divisor(y)

    def value_from_logits(self, z: FloatArray, t: FloatArray, shifted: FloatArray | None = None,
                          log_sum: FloatArray | None = None) -> float:
        """Return the loss from the logits z, never taking log(0).

        ``shifted`` (``z - max z`` per row) and ``log_sum`` (``log Σ exp(shifted)``
        per row, of shape (batch, 1)), as cached by the Softmax layer, save
        computing the exponentials a second time:
        ``L = -Σ_n [Σ_k t_nk shifted_nk - (Σ_k t_nk) log_sum_n] / N``.
        """
        if shifted is not None and log_sum is not None:
            row_weights = act.row_reduce(np.add, t)  # (batch,)
            total = float(np.vdot(t, shifted)) - float(np.vdot(row_weights, log_sum))
            # A row spanning more than the float range shifts to -inf, and 0 · -inf is NaN;
            # the exact form below handles that case.
            if math.isfinite(total):
                return -total / self.divisor(z)
        log_y = act.log_softmax(z)
        # Where t is 0 the product must be 0 even if log_y underflowed to -inf.
        products = np.where(t != 0, t * log_y, 0.0)
        return float(-np.sum(products)) / self.divisor(z)


LOSSES: dict[str, type[Loss]] = {
    "half-squared-error": HalfSquaredError,
    "mean-squared-error": MeanSquaredError,
    "mse": MeanSquaredError,
    "binary-cross-entropy": BinaryCrossEntropy,
    "bce": BinaryCrossEntropy,
    "categorical-cross-entropy": CategoricalCrossEntropy,
    "cross-entropy": CategoricalCrossEntropy,
}


def get_loss(name: str | Loss, reduction: str = "mean") -> Loss:
    """Return a loss object by name (``half-squared-error``, ``mse``, ...)."""
    if isinstance(name, Loss):
        return name
    key = str(name).lower().replace("_", "-")
    if key not in LOSSES:
        valid = ", ".join(sorted(LOSSES))
        raise InvalidInputError(f"loss={name!r} is not known; use one of: {valid}")
    return LOSSES[key](reduction=reduction)
