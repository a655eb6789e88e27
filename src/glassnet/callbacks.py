"""Callbacks that control training: learning-rate schedules and early stopping.

Each callback reads the :class:`glassnet.training.TrainingState` that
:func:`glassnet.training.fit` passes to its hooks. Callbacks run in the order
given, so put the ones that change the model (early stopping restores
weights when training ends) before the ones that report it.
"""

import math
from collections.abc import Mapping
from typing import Any

from ._typing import FloatArray, RunState
from .errors import InvalidInputError
from .schedules import ReduceOnPlateau, Schedule
from .training import Callback


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode == "auto":
        return "min" if "loss" in monitor or "error" in monitor else "max"
    if mode not in ("min", "max"):
        raise InvalidInputError(f"mode={mode!r} is not known; use 'auto', 'min' or 'max'")
    return mode


def _require_monitored(monitor: str, state: RunState, owner: str) -> None:
    if monitor.startswith("val_") and state.n_val == 0:
        raise InvalidInputError(
            f"{owner} monitors {monitor!r}, but fit() has no validation data; pass validation_data "
            "or monitor 'train_loss'"
        )


def _monitored_value(monitor: str, state: RunState, owner: str) -> float:
    if monitor not in state.record:
        known = ", ".join(state.record)
        raise InvalidInputError(f"{owner} monitors {monitor!r}, which is not in the epoch record ({known})")
    return float(state.record[monitor])


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate from a :class:`~glassnet.schedules.Schedule` before each epoch.

    The base rate is the optimizer's learning rate when training starts.
    """

    def __init__(self, schedule: Schedule) -> None:
        if not isinstance(schedule, Schedule):
            raise InvalidInputError(
                f"schedule={schedule!r} is not a glassnet schedule; use StepDecay, ExponentialDecay or CosineDecay"
            )
        self.schedule = schedule
        self.base_learning_rate: float | None = None

    def on_train_begin(self, state: RunState) -> None:
        self.base_learning_rate = state.optimizer.learning_rate

    def state_dict(self) -> dict[str, Any]:
        """Return the base learning rate, for checkpoints."""
        return {"base_learning_rate": self.base_learning_rate}

    def load_state_dict(self, saved: Mapping[str, Any]) -> None:
        self.base_learning_rate = float(saved["base_learning_rate"])

    def on_epoch_begin(self, state: RunState) -> None:
        if self.base_learning_rate is None:
            raise InvalidInputError(
                "LearningRateScheduler.on_epoch_begin ran before on_train_begin, so the base learning rate "
                "is not known; pass the callback to glassnet.training.fit, which calls the hooks in order"
            )
        epoch = state.epoch - 1  # schedules count epochs from 0
        state.optimizer.learning_rate = self.schedule.learning_rate(epoch, self.base_learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    See :class:`glassnet.schedules.ReduceOnPlateau` for the rule. ``mode``
    "auto" minimises names containing "loss" and maximises the others.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", factor: float = 0.1, patience: int = 10,
                 min_delta: float = 0.0, cooldown: int = 0, minimum: float = 0.0) -> None:
        self.monitor = monitor
        self.plateau = ReduceOnPlateau(mode=_resolve_mode(mode, monitor), factor=factor, patience=patience,
                                       min_delta=min_delta, cooldown=cooldown, minimum=minimum)

    def on_train_begin(self, state: RunState) -> None:
        _require_monitored(self.monitor, state, "ReduceLROnPlateau")

    def state_dict(self) -> dict[str, Any]:
        """Return the plateau counters, for checkpoints."""
        return {"best": self.plateau.best, "bad_epochs": self.plateau.bad_epochs,
                "cooldown_left": self.plateau.cooldown_left}

    def load_state_dict(self, saved: Mapping[str, Any]) -> None:
        self.plateau.best = float(saved["best"])
        self.plateau.bad_epochs = int(saved["bad_epochs"])
        self.plateau.cooldown_left = int(saved["cooldown_left"])

    def on_epoch_end(self, state: RunState) -> None:
        value = _monitored_value(self.monitor, state, "ReduceLROnPlateau")
        state.optimizer.learning_rate = self.plateau.update(value, state.optimizer.learning_rate)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; keep the best weights.

    Parameters
    ----------
    monitor : str
        Key of the epoch record, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    mode : {"auto", "min", "max"}
        "auto" minimises names containing "loss" and maximises the others.
    patience : int
        Epochs without improvement before stopping, >= 1.
    min_delta : float
        An improvement must beat the best value by more than this.
    restore_best_weights : bool
        When training ends, copy back the parameters of the best epoch.

    Attributes
    ----------
    best, best_epoch : float, int
        Best monitored value and the 1-based epoch it was reached in.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", patience: int = 10, min_delta: float = 0.0,
                 restore_best_weights: bool = True) -> None:
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise InvalidInputError(f"patience={patience!r} must be an integer >= 1 (epochs without improvement)")
        self.patience = patience
        if not (isinstance(min_delta, (int, float)) and math.isfinite(min_delta) and min_delta >= 0):
            raise InvalidInputError(f"min_delta={min_delta!r} must be a finite number >= 0")
        self.min_delta = float(min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_parameters: dict[str, FloatArray] | None = None
        self.wait = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, state: RunState) -> None:
        _require_monitored(self.monitor, state, "EarlyStopping")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_parameters = None
        self.wait = 0

    def state_dict(self) -> dict[str, Any]:
        """Return the best value, its epoch, the wait count and the best parameters, for checkpoints."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_parameters": self.best_parameters}

    def load_state_dict(self, saved: Mapping[str, Any]) -> None:
        self.best = float(saved["best"])
        self.best_epoch = int(saved["best_epoch"])
        self.wait = int(saved["wait"])
        parameters = saved["best_parameters"]
        self.best_parameters = None if parameters is None else {name: value.copy() for name, value in parameters.items()}

    def on_epoch_begin(self, state: RunState) -> None:
        # The wait count reaches patience inside a run only at the epoch's end, where fit then stops.
        # Here it means a resumed run whose last epoch met the stop rule, so the run ends at once.
        if self.wait >= self.patience and not state.stop_reason:
            state.stop_reason = self._stop_reason()

    def _stop_reason(self) -> str:
        return (f"early stopping: {self.monitor} did not improve for {self.patience} epochs "
                f"(best {self.best:.6g} at epoch {self.best_epoch})")

    def on_epoch_end(self, state: RunState) -> None:
        value = _monitored_value(self.monitor, state, "EarlyStopping")
        if self._improved(value):
            self.best = value
            self.best_epoch = state.epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_parameters = state.network.get_parameters()
            return
        self.wait += 1
        if self.wait >= self.patience and not state.stop_reason:
            state.stop_reason = self._stop_reason()

    def on_train_end(self, state: RunState) -> None:
        if not self.restore_best_weights or self.best_parameters is None or self.best_epoch == state.epoch:
            return
        state.network.set_parameters(self.best_parameters)
        state.stop_reason += f"; restored the weights of epoch {self.best_epoch}"
        state.history.stop_reason = state.stop_reason
