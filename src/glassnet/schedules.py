"""Learning-rate schedules: the learning rate as a function of the epoch.

A schedule returns a multiplier of the optimizer's initial learning rate
for a 0-based epoch number, so ``learning_rate(epoch) = base · factor(epoch)``.
Schedules hold no reference to an optimizer: the callback
:class:`glassnet.callbacks.LearningRateScheduler` sets
``optimizer.learning_rate`` before each epoch. :class:`ReduceOnPlateau`
depends on a monitored value instead of the epoch and is applied by
:class:`glassnet.callbacks.ReduceLROnPlateau`.

    step:         factor(e) = γ^floor(e / step_size)
    exponential:  factor(e) = γ^e
    cosine:       factor(e) = (e + 1) / W                                for e < W (warm-up)
                  factor(e) = f_min + (1 - f_min) · ½ (1 + cos(π · (e - W) / (E - W)))   for e >= W
"""

import math
from typing import Any

from .errors import InvalidInputError, InvalidTypeError


def _check_float(value: object, argument: str, *, low: float, high: float | None = None, low_inclusive: bool = False,
                 high_inclusive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{argument}={value!r} ({type(value).__name__}) must be a number")
    number = float(value)
    too_low = number < low or (number == low and not low_inclusive)
    too_high = high is not None and (number > high or (number == high and not high_inclusive))
    if not math.isfinite(number) or too_low or too_high:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        upper = "inf" if high is None else f"{high:g}"
        raise InvalidInputError(f"{argument}={number} must be in {left}{low:g}, {upper}{right}")
    return number


def _check_int(value: object, argument: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{argument}={value!r} ({type(value).__name__}) must be an integer")
    if value < minimum:
        raise InvalidInputError(f"{argument}={value} must be an integer >= {minimum}")
    return value


class Schedule:
    """Base class: ``factor(epoch)`` is the multiplier of the initial learning rate."""

    name = "schedule"

    def factor(self, epoch: int) -> float:
        raise NotImplementedError

    def learning_rate(self, epoch: int, base: float) -> float:
        """Return the learning rate of 0-based ``epoch`` for initial rate ``base``."""
        return base * self.factor(epoch)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **vars(self)}

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({shown})"


class ConstantSchedule(Schedule):
    """The initial learning rate at every epoch: factor(e) = 1."""

    name = "constant"

    def factor(self, epoch: int) -> float:
        return 1.0


class StepDecay(Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    factor(e) = gamma^floor(e / step_size), as PyTorch's ``StepLR``.
    """

    name = "step"

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _check_int(step_size, "step_size", 1)
        self.gamma = _check_float(gamma, "gamma", low=0.0, high=1.0, high_inclusive=True)

    def factor(self, epoch: int) -> float:
        return self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """Multiply the learning rate by ``gamma`` every epoch: factor(e) = gamma^e."""

    name = "exponential"

    def __init__(self, gamma: float) -> None:
        self.gamma = _check_float(gamma, "gamma", low=0.0, high=1.0, high_inclusive=True)

    def factor(self, epoch: int) -> float:
        return self.gamma ** epoch


class CosineDecay(Schedule):
    """Linear warm-up, then cosine annealing (Loshchilov and Hutter, 2017, without restarts).

    For ``epochs`` E, ``warmup_epochs`` W and ``minimum_factor`` f_min:
        factor(e) = (e + 1) / W                                      for e < W
        factor(e) = f_min + (1 - f_min) · ½ (1 + cos(π · (e - W) / (E - W)))   for W <= e < E
        factor(e) = f_min                                            for e >= E
    The first epoch after warm-up runs at the full initial rate, and the rate
    reaches ``f_min`` times the initial rate at epoch E.
    """

    name = "cosine"

    def __init__(self, epochs: int, warmup_epochs: int = 0, minimum_factor: float = 0.0) -> None:
        self.epochs = _check_int(epochs, "epochs", 1)
        self.warmup_epochs = _check_int(warmup_epochs, "warmup_epochs", 0)
        if self.warmup_epochs >= self.epochs:
            raise InvalidInputError(
                f"warmup_epochs={warmup_epochs} must be less than epochs={epochs}; shorten the warm-up"
            )
        self.minimum_factor = _check_float(minimum_factor, "minimum_factor", low=0.0, high=1.0,
                                           low_inclusive=True, high_inclusive=True)

    def factor(self, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            return (epoch + 1) / self.warmup_epochs
        if epoch >= self.epochs:
            return self.minimum_factor
        progress = (epoch - self.warmup_epochs) / (self.epochs - self.warmup_epochs)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.minimum_factor + (1.0 - self.minimum_factor) * cosine


class ReduceOnPlateau:
    """Multiply the learning rate by ``factor`` when a monitored value stops improving.

    After each epoch, :meth:`update` receives the monitored value (e.g. the
    validation loss). An improvement is a value better than the best so far
    by more than ``min_delta``. After ``patience`` epochs in a row without
    one, the learning rate is multiplied by ``factor`` (never below
    ``minimum``), and the next ``cooldown`` epochs do not count. As PyTorch's
    ``ReduceLROnPlateau`` with an absolute threshold.

    Attributes
    ----------
    best : float
        Best monitored value so far.
    bad_epochs : int
        Epochs in a row without improvement since the last reduction.
    """

    name = "plateau"

    def __init__(self, mode: str = "min", factor: float = 0.1, patience: int = 10, min_delta: float = 0.0,
                 cooldown: int = 0, minimum: float = 0.0) -> None:
        if mode not in ("min", "max"):
            raise InvalidInputError(f"mode={mode!r} is not known; use 'min' (e.g. a loss) or 'max' (e.g. accuracy)")
        self.mode = mode
        self.factor = _check_float(factor, "factor", low=0.0, high=1.0)
        self.patience = _check_int(patience, "patience", 0)
        self.min_delta = _check_float(min_delta, "min_delta", low=0.0, low_inclusive=True)
        self.cooldown = _check_int(cooldown, "cooldown", 0)
        self.minimum = _check_float(minimum, "minimum", low=0.0, low_inclusive=True)
        self.best = math.inf if mode == "min" else -math.inf
        self.bad_epochs = 0
        self.cooldown_left = 0

    def is_improvement(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float, learning_rate: float) -> float:
        """Record one epoch's monitored ``value``; return the next learning rate."""
        if self.is_improvement(value):
            self.best = value
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            self.bad_epochs = 0
            self.cooldown_left = self.cooldown
            return max(learning_rate * self.factor, self.minimum)
        return learning_rate

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode, "factor": self.factor, "patience": self.patience,
                "min_delta": self.min_delta, "cooldown": self.cooldown, "minimum": self.minimum}


SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")
