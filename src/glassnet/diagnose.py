"""Numerical health report: dead units, saturation, gradient flow and non-finite values.

:func:`diagnose` runs one forward and (given targets) one backward pass on a
batch, without updating anything, and reports per layer:

* dead ReLU units, whose pre-activation is <= 0 for every sample, so they
  output 0 and pass back no gradient;
* saturated sigmoid and tanh units, whose derivative is below 1 % of its
  maximum for most samples, so they pass back almost no gradient;
* the norm of each Dense layer's weight gradient, and whether it shrinks
  (vanishing) or grows (exploding) by orders of magnitude from the output
  layer back to the input layer;
* the first operation, in the order the math happens, whose result
  contains NaN or inf although its inputs were finite.

Each finding is written in plain words with what to try. :class:`HealthMonitor`
runs the same check from the fit loop every few epochs.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike

from ._typing import FloatArray, JSONDict, RunState
from .errors import InvalidInputError, InvalidTypeError
from .layers import Activation, Dense
from .losses import Loss, get_loss
from .trace import Quantity, Trace
from .training import Callback
from .validation import check_positive_int, check_positive_number

if TYPE_CHECKING:
    from .network import Sequential

logger = logging.getLogger(__name__)

# A sigmoid unit is saturated where sigmoid'(z) = a(1 - a) < 0.01 · 0.25, a tanh
# unit where tanh'(z) = 1 - a² < 0.01: both are 1 % of the derivative's maximum.
SATURATED_DERIVATIVE = {"sigmoid": 0.0025, "tanh": 0.01}

ADVICE = {
    "dead": (
        "Try a lower learning rate, LeakyReLU instead of ReLU, He initialisation, or standardised inputs; "
        "a large negative bias also keeps units off"
    ),
    "saturated": (
        "Standardise the inputs, start from smaller weights (Glorot initialisation), lower the learning rate, "
        "or use ReLU in the hidden layers"
    ),
    "vanishing": (
        "Use ReLU or LeakyReLU instead of sigmoid or tanh in hidden layers, He or Glorot initialisation, "
        "fewer layers, or standardised inputs"
    ),
    "exploding": (
        "Lower the learning rate, clip the gradient norm (clip_norm), standardise the inputs, "
        "or start from smaller weights"
    ),
    "non-finite parameter": (
        "The parameters are already broken, usually by an earlier divergence: re-initialise the network "
        "or load a checkpoint, then train with a lower learning rate"
    ),
    "non-finite": (
        "Values overflowed: lower the learning rate, standardise the inputs, start from smaller weights, "
        "or clip the gradient norm (clip_norm)"
    ),
}


@dataclass
class Finding:
    """One problem found by :func:`diagnose`.

    Attributes
    ----------
    kind : str
        ``"dead"``, ``"saturated"``, ``"vanishing"``, ``"exploding"``,
        ``"large update"``, ``"non-finite parameter"`` or ``"non-finite"``.
    layer : str
        Name of the layer concerned (``"relu1"``, ``"dense2"``), or ``""``.
    message : str
        What was found, in plain words, with the numbers.
    advice : str
        What to try.
    """

    kind: str
    layer: str
    message: str
    advice: str

    def __str__(self) -> str:
        where = f"{self.layer}: " if self.layer else ""
        return f"{where}{self.message}. {self.advice}."

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "layer": self.layer, "message": self.message, "advice": self.advice}


@dataclass
class LayerHealth:
    """Statistics of one layer on the diagnosed batch.

    ``dead_units`` is set for ReLU layers, ``saturated_units`` for sigmoid
    and tanh layers, ``weight_grad_norm`` and ``weight_norm`` (L2 norms of
    dW and W) for Dense layers when targets were given; the others are None.
    """

    name: str
    kind: str
    units: int
    dead_units: int | None = None
    saturated_units: int | None = None
    weight_grad_norm: float | None = None
    weight_norm: float | None = None

    def to_dict(self) -> JSONDict:
        return {key: value for key, value in self.__dict__.items()}


@dataclass
class HealthReport:
    """Result of :func:`diagnose`: per-layer statistics and the findings."""

    layers: list[LayerHealth] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    loss: float | None = None
    batch_size: int = 0

    @property
    def healthy(self) -> bool:
        return not self.findings

    def kinds(self) -> list[str]:
        """Return the kinds of the findings, in order, e.g. ``["dead", "vanishing"]``."""
        return [finding.kind for finding in self.findings]

    def to_dict(self) -> JSONDict:
        return {
            "batch_size": self.batch_size,
            "loss": self.loss,
            "healthy": self.healthy,
            "layers": [layer.to_dict() for layer in self.layers],
            "findings": [finding.to_dict() for finding in self.findings],
        }

    def __str__(self) -> str:
        lines = [f"Numerical health on a batch of {self.batch_size} samples"
                 + (f", loss {self.loss:.6g}" if self.loss is not None else "")]
        lines.append(f"{'layer':<14}{'units':>6}  {'dead':>6}  {'saturated':>9}  {'||dW||':>10}")
        for layer in self.layers:
            dead = "-" if layer.dead_units is None else str(layer.dead_units)
            saturated = "-" if layer.saturated_units is None else str(layer.saturated_units)
            norm = "-" if layer.weight_grad_norm is None else f"{layer.weight_grad_norm:.3g}"
            lines.append(f"{layer.name:<14}{layer.units:>6}  {dead:>6}  {saturated:>9}  {norm:>10}")
        if self.healthy:
            lines.append("No problems found.")
        for finding in self.findings:
            lines.append(f"- {finding}")
        return "\n".join(lines)


def diagnose(network: Sequential, X: ArrayLike, t: ArrayLike | None = None, loss: str | Loss = "half-squared-error",
             *, learning_rate: float | None = None, dead_fraction: float = 0.0, saturated_fraction: float = 0.9,
             ratio: float = 1e3, max_grad_norm: float = 1e3) -> HealthReport:
    """Check a network's numerical health on one batch, without changing it.

    Parameters
    ----------
    network : Sequential
    X : array-like of shape (batch, in_features)
        Finite inputs (NaN and inf raise, naming the row and column).
    t : array-like, optional
        Targets as for :meth:`Sequential.step`. Without them only the forward
        pass is checked (no gradient norms).
    loss : str or Loss
    learning_rate : float, optional
        When given, a Dense layer is also reported when one plain gradient
        step ``learning_rate · ||dW||`` would be larger than ``||W||``.
    dead_fraction : float
        A ReLU layer is reported when more than this fraction of its units
        is dead on the batch (default 0: any dead unit).
    saturated_fraction : float
        A sigmoid or tanh unit counts as saturated when it is saturated for
        at least this fraction of the samples.
    ratio : float
        Vanishing or exploding is reported when the weight-gradient norm of
        the first Dense layer is ``ratio`` times smaller or larger than that
        of the last one.
    max_grad_norm : float
        Exploding is also reported when any weight-gradient norm exceeds this.

    Returns
    -------
    HealthReport
    """
    from .network import Sequential

    if not isinstance(network, Sequential):
        raise InvalidTypeError(f"network is a {type(network).__name__}; expected a glassnet Sequential")
    for argument, value in (("dead_fraction", dead_fraction), ("saturated_fraction", saturated_fraction)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise InvalidInputError(f"{argument}={value!r} is invalid; expected a fraction between 0 and 1")
    if learning_rate is not None:
        learning_rate = check_positive_number(learning_rate, "learning_rate")
    loss_function: Loss = get_loss(loss)
    batch: FloatArray = network.prepare_input(X)
    if batch.shape[0] == 0:
        raise InvalidInputError(f"X is empty (shape {batch.shape}); diagnose needs at least one sample")
    targets: FloatArray | None = None
    if t is not None:
        targets = loss_function.prepare_targets(t, (batch.shape[0], network.out_features), network.dtype)

    report = HealthReport(batch_size=batch.shape[0])
    broken = _non_finite_parameter(network)
    if broken is not None:
        report.findings.append(broken)

    trace = Trace(loss_name=loss_function.name, reduction=loss_function.reduction,
                  fused=network.is_fused(loss_function), batch_size=batch.shape[0])
    saved_grads = {name: grad.copy() for name, grad in network.gradients()}
    network.eval()
    try:
        with np.errstate(all="ignore"):
            if targets is None:
                network.forward_prepared(batch, trace)
            else:
                report.loss = network.loss_and_backward(batch, targets, loss_function, trace)
            _collect_layers(network, loss_function, targets is not None, report, dead_fraction, saturated_fraction)
    finally:
        network.train()
        for name, grad in network.gradients():
            np.copyto(grad, saved_grads[name])

    if targets is not None:
        _check_gradient_flow(report, ratio, max_grad_norm)
        if learning_rate is not None:
            _check_update_size(report, learning_rate)
    if broken is None:
        first = _first_non_finite(trace)
        if first is not None:
            report.findings.append(first)
    return report


def _non_finite_parameter(network: Sequential) -> Finding | None:
    for name, value in network.parameters():
        if not np.isfinite(value).all():
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
            layer = name.split(".")[0]
            return Finding("non-finite parameter", layer,
                           f"parameter {name} contains {value[index]} at index {index}",
                           ADVICE["non-finite parameter"])
    return None


def _collect_layers(network: Sequential, loss: Loss, with_gradients: bool, report: HealthReport,
                    dead_fraction: float, saturated_fraction: float) -> None:
    fused_output = network.layers[-1] if network.is_fused(loss) else None
    for layer in network.layers:
        if isinstance(layer, Dense):
            health = LayerHealth(layer.name, layer.kind, layer.out_features)
            if with_gradients:
                health.weight_grad_norm = _norm(layer.grads["W"])
                health.weight_norm = _norm(layer.params["W"])
            report.layers.append(health)
            continue
        if not isinstance(layer, Activation):
            continue  # Dropout and custom layers other than activations have no dead or saturated check
        # Forward has run, so the activation's a and z are set.
        activation = layer
        units = cast("FloatArray", activation.a).shape[1]
        health = LayerHealth(layer.name, layer.kind, units)
        report.layers.append(health)
        if layer.kind in ("relu",):
            with np.errstate(invalid="ignore"):
                dead = np.all(cast("FloatArray", activation.z) <= 0, axis=0)
            health.dead_units = int(dead.sum())
            if health.dead_units and health.dead_units / units > dead_fraction:
                indices = np.flatnonzero(dead)
                shown = ", ".join(str(i) for i in indices[:10]) + (", ..." if len(indices) > 10 else "")
                report.findings.append(Finding(
                    "dead", layer.name,
                    f"{health.dead_units} of {units} ReLU units are dead (units {shown}): their input is <= 0 "
                    f"for all {report.batch_size} samples, so they output 0 and pass back no gradient",
                    ADVICE["dead"]))
        elif layer.kind in SATURATED_DERIVATIVE and layer is not fused_output:
            derivative = activation.local_derivative()
            with np.errstate(invalid="ignore"):
                saturated_share = np.mean(derivative < SATURATED_DERIVATIVE[layer.kind], axis=0)
            saturated = saturated_share >= saturated_fraction
            health.saturated_units = int(saturated.sum())
            if health.saturated_units:
                report.findings.append(Finding(
                    "saturated", layer.name,
                    f"{health.saturated_units} of {units} {layer.kind} units are saturated: for at least "
                    f"{saturated_fraction:.0%} of the samples their output is so close to its limit that the "
                    f"derivative is below 1 % of its maximum, so almost no gradient passes back",
                    ADVICE["saturated"]))


def _norm(array: ArrayLike) -> float:
    """Return the L2 norm of ``array`` in float64, scaled first so that large finite values do not overflow."""
    values = np.asarray(array, dtype=np.float64)
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest == 0.0 or not math.isfinite(largest):
        return largest
    return largest * float(np.linalg.norm(values / largest))


def _check_update_size(report: HealthReport, learning_rate: float) -> None:
    for layer in report.layers:
        if layer.weight_grad_norm is None or not layer.weight_norm:
            continue
        step = learning_rate * layer.weight_grad_norm
        if math.isfinite(step) and step > layer.weight_norm:
            report.findings.append(Finding(
                "large update", layer.name,
                f"one step of plain gradient descent with learning rate {learning_rate:g} would move the "
                f"weights by {step:.3g}, more than their own norm {layer.weight_norm:.3g}; steps this large "
                "usually overshoot and make the loss grow",
                ADVICE["exploding"]))


def _check_gradient_flow(report: HealthReport, ratio: float, max_grad_norm: float) -> None:
    dense = [layer for layer in report.layers if layer.weight_grad_norm is not None]
    norms = [layer.weight_grad_norm for layer in dense if layer.weight_grad_norm is not None]
    if not norms or not all(math.isfinite(norm) for norm in norms):
        return
    listing = ", ".join(f"{layer.name} {layer.weight_grad_norm:.3g}" for layer in dense)
    first, last = norms[0], norms[-1]
    if len(norms) > 1 and last > 0 and first < last / ratio:
        report.findings.append(Finding(
            "vanishing", dense[0].name,
            f"gradients vanish towards the input: the weight-gradient norm falls from {last:.3g} at "
            f"{dense[-1].name} to {first:.3g} at {dense[0].name} ({listing}), so the first layers barely learn",
            ADVICE["vanishing"]))
    elif len(norms) > 1 and first > 0 and first > last * ratio:
        report.findings.append(Finding(
            "exploding", dense[0].name,
            f"gradients explode towards the input: the weight-gradient norm grows from {last:.3g} at "
            f"{dense[-1].name} to {first:.3g} at {dense[0].name} ({listing})",
            ADVICE["exploding"]))
    elif max(norms) > max_grad_norm:
        largest = dense[int(np.argmax(norms))]
        report.findings.append(Finding(
            "exploding", largest.name,
            f"the weight-gradient norm of {largest.name} is {largest.weight_grad_norm:.3g}, above "
            f"{max_grad_norm:g} ({listing}); a step of plain gradient descent would move the weights far",
            ADVICE["exploding"]))


def _first_non_finite(trace: Trace) -> Finding | None:
    """Return a finding for the first traced quantity with NaN or inf, or None."""
    for quantity in trace.quantities:
        value = np.asarray(quantity.value)
        if value.dtype.kind != "f" or np.isfinite(value).all():
            continue
        bad = np.argwhere(~np.isfinite(value))
        index = tuple(int(i) for i in bad[0]) if value.ndim else ()
        shown = value[index] if value.ndim else value.item()
        sources = ", ".join(quantity.inputs) if quantity.inputs else "its inputs"
        where = f" at index {index}" if index else ""
        message = (f"the first non-finite value appears in {quantity.symbol} ({quantity.name}, "
                   f"{quantity.symbol} = {quantity.formula}) during the {quantity.phase} pass: "
                   f"{shown}{where}, although {sources} were finite")
        return Finding("non-finite", _layer_name(quantity), message, ADVICE["non-finite"])
    return None


def _layer_name(quantity: Quantity) -> str:
    if quantity.phase == "loss" or not quantity.layer:
        return ""
    return f"layer {quantity.layer}"


class HealthMonitor(Callback):
    """Run :func:`diagnose` on a fixed batch during :func:`~glassnet.training.fit`.

    Every ``every`` epochs the report is appended to ``reports`` (as
    ``(epoch, report)``) and each finding is logged as a warning. The batch
    runs in inference mode, so dropout draws no random numbers and training
    is not changed.

    Parameters
    ----------
    X, t : arrays
        Batch to check, e.g. the first few hundred training samples.
    loss : str or Loss
        The loss being trained.
    every : int
        Epochs between checks.
    """

    def __init__(self, X: ArrayLike, t: ArrayLike | None = None, loss: str | Loss = "half-squared-error",
                 every: int = 1, **options: Any) -> None:
        self.X = X
        self.t = t
        self.loss = loss
        self.every = check_positive_int(every, "every")
        self.options = options
        self.reports: list[tuple[int, HealthReport]] = []

    def on_epoch_end(self, state: RunState) -> None:
        if state.epoch % self.every:
            return
        report = diagnose(state.network, self.X, self.t, self.loss, **self.options)
        self.reports.append((state.epoch, report))
        for finding in report.findings:
            logger.warning("epoch %d: %s", state.epoch, finding)
