"""The fit loop: mini-batches, shuffling, evaluation, callbacks, divergence checks.

``fit`` owns only the loop. Reporting, early stopping, schedules and
checkpoints are callbacks (see :class:`Callback`), so the loop stays short.
Randomness (shuffling) comes from a seeded ``numpy.random.Generator``; the
global NumPy random state is never read or advanced.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np
from numpy.typing import ArrayLike

from ._buffers import aligned_empty
from ._typing import FloatArray, JSONDict, StrPath

from .errors import DivergenceError, InvalidInputError
from .initializers import as_generator
from .losses import get_loss
from .network import Slots, check_l2
from .optimizers import apply_updates, get_optimizer
from .serialization import atomic_write_text
from .validation import all_finite, check_positive_int, check_positive_number, physical_memory_bytes

if TYPE_CHECKING:
    from .layers import Activation
    from .losses import Loss
    from .network import Sequential
    from .optimizers import Optimizer, PendingUpdate


@dataclass
class History:
    """Per-epoch records of a run: one dict per epoch with the same keys.

    Typical keys: ``epoch``, ``step``, ``train_loss``, ``val_loss``,
    ``val_accuracy`` (or another metric), ``learning_rate``, ``seconds``.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = ""

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: str) -> list[Any]:
        """Return one column as a list, e.g. ``history["train_loss"]``."""
        return [record.get(key) for record in self.records]

    def keys(self) -> list[str]:
        keys: list[str] = []
        for record in self.records:
            for key in record:
                if key not in keys:
                    keys.append(key)
        return keys

    def to_dict(self) -> JSONDict:
        return {"records": self.records, "stop_reason": self.stop_reason}

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.keys(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.records)
        return buffer.getvalue()

    def save(self, path: StrPath) -> None:
        """Write the history as CSV (``.csv``) or JSON (any other suffix), atomically."""
        text = self.to_csv() if str(path).lower().endswith(".csv") else json.dumps(self.to_dict(), indent=2)
        atomic_write_text(path, text)


class Callback:
    """Hooks called by :func:`fit`.

    Set ``state.stop_reason`` to stop after the epoch; in ``on_batch_end``, also
    set ``state.stop_now = True`` to stop after the batch, leaving the epoch
    unfinished and unrecorded (used to save a checkpoint on Ctrl-C).
    """

    #: Whether ``on_batch_end`` may change the network's parameters. ``fit`` then
    #: measures them again before the next step, which costs two passes over them.
    #: Callbacks that only read the state (progress displays, checkpoints) set it
    #: to False. It matters only for callbacks that define ``on_batch_end``.
    modifies_parameters = True

    def on_train_begin(self, state: TrainingState) -> None:
        pass

    def on_epoch_begin(self, state: TrainingState) -> None:
        pass

    def on_batch_end(self, state: TrainingState) -> None:
        pass

    def on_epoch_end(self, state: TrainingState) -> None:
        pass

    def on_train_end(self, state: TrainingState) -> None:
        pass


@dataclass
class TrainingState:
    """State of a :func:`fit` run that callbacks read, and for ``stop_reason`` also write."""

    network: Sequential
    optimizer: Optimizer
    loss: Loss
    history: History
    epochs: int
    batch_size: int
    n_train: int
    n_val: int
    seed: int | np.integer[Any] | np.random.Generator | None
    epoch: int = 0
    step: int = 0
    batch_loss: float = float("nan")
    record: dict[str, Any] = field(default_factory=dict)
    stop_reason: str = ""
    started: float = 0.0
    # fit always passes its shuffling generator, so None is only the constructor default.
    rng: np.random.Generator = None  # type: ignore[assignment]
    stop_now: bool = False
    # Position inside the current epoch, for checkpoints taken between batches:
    # the shuffling generator's state before this epoch's permutation, the
    # number of samples done, and the running sum of their losses.
    epoch_rng_state: dict[str, Any] | None = None
    position: int = 0
    total_loss: float = 0.0
    callbacks: list[Callback] = field(default_factory=list)
    # Set by fit before on_epoch_end of an epoch that a step or time budget stopped part-way:
    # {"epoch", "callback_states", "learning_rate"} from before that partial record. A checkpoint
    # resumes inside the epoch from them, so the resumed callbacks count the epoch once, for all of it.
    before_partial_record: dict[str, Any] | None = None


@dataclass
class ResumePoint:
    """Position at which :func:`fit` continues an interrupted run (see ``glassnet.checkpoint``).

    Attributes
    ----------
    epoch : int
        Epoch to run first (1-based); it continues at ``position``.
    position : int
        Samples of that epoch already trained on (0 starts the epoch afresh).
    step : int
        Optimizer steps taken so far.
    rng_state : dict
        ``bit_generator.state`` of the shuffling generator before the
        permutation of ``epoch``, so the same sample order is drawn again.
    total_loss : float
        Sum of batch loss times batch size over the first ``position`` samples.
    records : list of dict
        History records of the finished epochs.
    callback_states : list of dict
        ``{"type": class name, "state": callback.state_dict()}`` of every
        callback that has ``state_dict`` (schedules, early stopping), in order.
    """

    epoch: int
    position: int
    step: int
    rng_state: dict[str, Any]
    total_loss: float = 0.0
    records: list[dict[str, Any]] = field(default_factory=list)
    callback_states: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_trained_epoch(self) -> int:
        """The last epoch in which the run has taken a step (0 before any)."""
        # A point at position 0 starts its epoch, so the run has trained only in the epochs before it.
        return self.epoch - 1 if self.position == 0 else self.epoch


def evaluate_loss(network: Sequential, X: FloatArray, t: FloatArray, loss: Loss, batch_size: int = 4096) -> float:
    """Return the loss of ``network`` on prepared arrays, in inference mode."""
    if X.shape[0] == 0:
        return float("nan")
    network.eval()
    try:
        total = 0.0
        for start in range(0, X.shape[0], batch_size):
            xb = X[start:start + batch_size]
            tb = t[start:start + batch_size]
            y = network.forward_prepared(xb)
            if network.is_fused(loss):
                # The fused output layer is an activation, and forward has just set its z.
                logits = cast("FloatArray", cast("Activation", network.layers[-1]).z)
                value = loss.value_from_logits(logits, tb)
            else:
                value = loss.value(y, tb)
            total += value * loss.divisor(y)
        divisor_all = loss.divisor(np.empty((X.shape[0], network.out_features)))
        return total / divisor_all
    finally:
        network.train()


def check_memory(network: Sequential, batch_size: int) -> None:
    """Raise before training when the network's working arrays cannot fit in memory.

    The estimate counts five copies of the parameters (values, gradients, the
    pending updates and up to two optimizer moments) and four arrays of
    (batch, width) per layer (outputs and gradients, forward and backward). It
    is a lower bound, so a run it accepts may still run out of memory.
    """
    available = physical_memory_bytes()
    if available is None:
        return
    itemsize = network.dtype.itemsize
    widths = sum(layer.out_features for layer in network.dense_layers)
    needed = itemsize * (5 * network.n_parameters + 4 * batch_size * widths * 2)
    if needed > available:
        raise InvalidInputError(
            f"this network needs at least {needed / 2**30:.1f} GiB to train with batch_size={batch_size} "
            f"({network.n_parameters:,} parameters), more than this machine's {available / 2**30:.1f} GiB of "
            "memory; use fewer or narrower hidden layers or a smaller batch size"
        )


def fit(network: Sequential, X: ArrayLike, t: ArrayLike, *, loss: str | Loss = "half-squared-error",
        optimizer: str | Optimizer | None = None, epochs: int = 10, batch_size: int = 32, shuffle: bool = True,
        seed: int | np.integer[Any] | np.random.Generator | None = 0,
        validation_data: tuple[ArrayLike, ArrayLike] | list[ArrayLike] | None = None,
        metrics: Mapping[str, Callable[[Sequential, FloatArray, FloatArray], float]] | None = None,
        callbacks: Sequence[Callback] = (), max_steps: int | None = None, max_seconds: float | None = None,
        resume: ResumePoint | None = None, l2: float = 0.0) -> History:
    """Train ``network`` in place with mini-batch gradient descent.

    Parameters
    ----------
    network : Sequential
    X : array-like of shape (n_samples, in_features)
    t : targets, as for :meth:`Sequential.step` (class labels of shape (n,)
        are accepted with categorical cross-entropy)
    loss : str or Loss
    optimizer : Optimizer or str, optional
        Defaults to SGD with learning rate 0.01.
    epochs : int
    batch_size : int
        Mini-batch size; the last batch of an epoch may be smaller.
    shuffle : bool
        Draw a new sample order every epoch from the seeded generator.
    seed : int or numpy.random.Generator
    validation_data : tuple (X_val, t_val), optional
        Evaluated after every epoch into ``val_loss`` and the ``metrics``.
    metrics : dict of str to callable, optional
        ``{name: function(network, X_val, t_val) -> float}``, recorded as
        ``val_<name>`` each epoch.
    callbacks : sequence of Callback
    max_steps, max_seconds : optional budgets; training stops after the
        batch that reaches either.
    resume : ResumePoint, optional
        Continue an interrupted run. The network's parameters, the optimizer
        state and any Dropout generators must already be restored; the run
        then matches an uninterrupted one bitwise. ``epochs`` and
        ``max_steps`` may be larger than the first run's, but not below the
        epoch and step that ``resume`` has reached.
    l2 : float
        L2 penalty strength λ >= 0: every step adds ½ λ Σ ||W_k||² over the
        Dense weights to the loss and λ W_k to dW_k. ``train_loss`` includes
        the penalty; ``val_loss`` is the data loss alone.

    Returns
    -------
    History

    Raises
    ------
    InvalidInputError
        For invalid arguments, and when ``epochs`` or ``max_steps`` is below
        what ``resume`` has already spent.
    DivergenceError
        When a batch loss, the validation loss, a gradient or a parameter
        becomes NaN or inf. The network keeps the parameters from before the
        step that failed, which were all finite. The error's ``history``
        contains the epochs completed before it.
    """
    loss = get_loss(loss)
    l2 = check_l2(l2)
    if optimizer is None:
        optimizer = get_optimizer("sgd", learning_rate=0.01)
    else:
        optimizer = get_optimizer(optimizer)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if max_steps is not None:
        max_steps = check_positive_int(max_steps, "max_steps")
    if max_seconds is not None:
        max_seconds = check_positive_number(max_seconds, "max_seconds")
    X, scanned = _prepare_training_input(network, X)
    if X.shape[0] == 0:
        raise InvalidInputError(f"X is empty (shape {X.shape}); training needs at least one sample")
    X_val: FloatArray | None
    t_val: FloatArray | None
    t = loss.prepare_targets(t, (X.shape[0], network.out_features), network.dtype)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise InvalidInputError(
                f"validation_data is a {type(validation_data).__name__}; expected a pair (X_val, t_val)"
            )
        X_val = network.prepare_input(validation_data[0], "X_val")
        t_val = loss.prepare_targets(validation_data[1], (X_val.shape[0], network.out_features), network.dtype)
    else:
        X_val = t_val = None
    rng = as_generator(seed)
    history = History()
    state = TrainingState(network=network, optimizer=optimizer, loss=loss, history=history, epochs=epochs,
                          batch_size=batch_size, n_train=X.shape[0], n_val=0 if X_val is None else X_val.shape[0],
                          seed=seed, started=time.perf_counter(), rng=rng)
    first_epoch = 1
    if resume is not None:
        _check_budgets_not_passed(resume, epochs, max_steps)
        first_epoch = resume.epoch
        state.step = resume.step
        history.records = [dict(record) for record in resume.records]
        rng.bit_generator.state = resume.rng_state
    check_memory(network, min(batch_size, X.shape[0]))
    guard = FiniteGuard(network, optimizer)
    changes_between_batches = any(
        type(callback).on_batch_end is not Callback.on_batch_end and getattr(callback, "modifies_parameters", True)
        for callback in callbacks
    )
    # When this fit did not scan X, or callbacks may write into X between steps, X can contain
    # NaN or inf that no scan saw. Then each step checks one column of dW1 before an optimizer that
    # would take it into its state (see _prepare_training_input).
    unchecked_input = not scanned or bool(callbacks)
    n = X.shape[0]
    # One gather per mini-batch into these arrays: no second copy of the data set.
    X_batch, t_batch = _batch_buffers(network, min(batch_size, n), X, t)
    network.train()
    state.callbacks = list(callbacks)
    for callback in callbacks:
        callback.on_train_begin(state)
    if resume is not None:
        _load_callback_states(callbacks, resume.callback_states)
    epochs_left = range(first_epoch, epochs + 1)
    if max_steps is not None and state.step >= max_steps and (resume is None or resume.position == 0):
        # A run resumed between epochs with its step budget spent: nothing is left to do.
        state.stop_reason = f"reached the step budget (max_steps={max_steps})"
        state.epoch = first_epoch - 1
        epochs_left = range(0)

    for epoch in epochs_left:
        state.epoch = epoch
        # NumPy types the state as a Mapping; it is a dict.
        state.epoch_rng_state = cast("dict[str, Any]", rng.bit_generator.state)
        state.position = 0
        epoch_started = time.perf_counter()
        for callback in callbacks:
            callback.on_epoch_begin(state)
        if state.stop_reason:
            # A callback ended the run before this epoch's first step, e.g. EarlyStopping resumed
            # after the epoch that met its rule. The last epoch trained is the one before.
            state.epoch = epoch - 1
            break
        order = rng.permutation(n) if shuffle else None
        guard.refresh()  # parameters may have been changed since the last step, e.g. by a callback
        total_loss = 0.0
        seen = 0
        if resume is not None and epoch == resume.epoch:
            total_loss = resume.total_loss
            seen = resume.position
        starts = range(seen, n, batch_size)
        if max_steps is not None and state.step >= max_steps:
            # Only a run resumed inside this epoch with its step budget spent gets here, because a
            # step that spends the budget stops the loop below. Its record for the epoch is written
            # as when the run first stopped.
            state.stop_reason = f"reached the step budget (max_steps={max_steps})"
            starts = range(0)
        for start in starts:
            if order is None:
                xb = X[start:start + batch_size]
                tb = t[start:start + batch_size]
            else:
                index = order[start:start + batch_size]
                # The indices come from a permutation of range(n), so none needs the bounds check of
                # np.take's default mode. That mode also gathers into a temporary array and copies it
                # into out, which took 0.73 ms instead of 0.27 for 1024 rows of 784 float32 values.
                xb = np.take(X, index, axis=0, out=X_batch[:index.shape[0]], mode="clip")
                tb = np.take(t, index, axis=0, out=t_batch[:index.shape[0]], mode="clip")
            iterations = optimizer.iterations
            # Overflow shows up as a non-finite loss or parameter and is reported
            # by the DivergenceError below, so NumPy's own warnings are silenced.
            with np.errstate(over="ignore", invalid="ignore"):
                value = network.loss_and_backward(xb, tb, loss, l2=l2)
                problem = "" if math.isfinite(value) else f"the training loss became {value}"
                if not problem:
                    if (unchecked_input and optimizer.keeps_gradient_state()
                            and not all_finite(network.dense_layers[0].grads["W"][:, 0])):
                        _check_batch_input(xb, order, start)
                    problem = guard.step()
            if problem:
                # X or the targets may have been changed since they were checked (see
                # _prepare_training_input). Then the step that the guard stopped is not counted, as
                # when the check above stops it.
                try:
                    _check_batch_input(xb, order, start)
                    _check_batch_targets(tb, order, start)
                except InvalidInputError:
                    optimizer.iterations = iterations
                    raise
                _raise_diverged(epoch, state.step + 1, problem, history)
            state.step += 1
            state.batch_loss = value
            total_loss += value * xb.shape[0]
            seen += xb.shape[0]
            state.position = seen
            state.total_loss = total_loss
            for callback in callbacks:
                callback.on_batch_end(state)
            if changes_between_batches:
                guard.refresh()
            if state.stop_now:
                break
            if max_steps is not None and state.step >= max_steps:
                state.stop_reason = f"reached the step budget (max_steps={max_steps})"
                break
            if max_seconds is not None and time.perf_counter() - state.started >= max_seconds:
                state.stop_reason = f"reached the time budget (max_seconds={max_seconds:g})"
                break
        if state.stop_now:
            break

        record: dict[str, Any] = {
            "epoch": epoch,
            "step": state.step,
            "train_loss": total_loss / seen,
            "learning_rate": optimizer.learning_rate,
        }
        if X_val is not None and X_val.shape[0] > 0:
            with np.errstate(over="ignore", invalid="ignore"):
                # t_val is set whenever X_val is.
                record["val_loss"] = evaluate_loss(network, X_val, cast("FloatArray", t_val), loss)
            if not math.isfinite(record["val_loss"]):
                _check_validation_data(X_val, cast("FloatArray", t_val))
                _raise_diverged(epoch, state.step, f"the validation loss became {record['val_loss']}", history)
            for name, function in (metrics or {}).items():
                record[f"val_{name}"] = function(network, X_val, cast("FloatArray", t_val))
        record["seconds"] = time.perf_counter() - epoch_started
        if seen < n:
            state.before_partial_record = {"epoch": epoch, "callback_states": callback_states(callbacks),
                                           "learning_rate": optimizer.learning_rate}
        state.record = record
        history.records.append(record)
        for callback in callbacks:
            callback.on_epoch_end(state)
        if state.stop_reason:
            break

    if not state.stop_reason:
        state.stop_reason = f"completed all {epochs} epochs"
    history.stop_reason = state.stop_reason
    for callback in callbacks:
        callback.on_train_end(state)
    _release_batch_arrays(network, X_batch, t_batch)
    return history


def _check_budgets_not_passed(resume: ResumePoint, epochs: int, max_steps: int | None) -> None:
    """Raise when ``resume`` lies past ``epochs`` or ``max_steps``.

    A budget equal to what the run has spent is accepted: the resumed run then
    takes no step. A smaller one would end with more epochs or steps in its
    history than its budget allows and a stop reason that is false.
    """
    last_trained = resume.last_trained_epoch
    if last_trained > epochs:
        raise InvalidInputError(
            f"epochs={epochs} is below epoch {last_trained}, in which the resumed run has already trained; "
            f"give epochs >= {last_trained}"
        )
    if max_steps is not None and resume.step > max_steps:
        raise InvalidInputError(
            f"max_steps={max_steps} is below the {resume.step} steps that the resumed run has already taken; "
            f"give max_steps >= {resume.step}"
        )


def _prepare_training_input(network: Sequential, X: ArrayLike) -> tuple[FloatArray, bool]:
    """Return ``network.prepare_input(X)`` and whether its NaN and inf scan ran, skipping a checked array.

    The scan reads all of X, which costs as much as several training steps,
    and a loop that calls :func:`fit` once per epoch would pay it every epoch.
    So the network remembers the last array that passed the scan without
    conversion, and the scan is skipped when the same array object comes
    back with the same memory, shape, strides and dtype. Its values may have
    changed in the meantime. A NaN or inf written into it still reaches
    neither the parameters nor the optimizer's state. A network starts with
    a Dense layer, and ``dW1 = xᵀ · delta`` has a whole row of NaN or inf
    for every non-finite input column of the batch, because NaN · 0 and
    inf · 0 are NaN. So when the scan was skipped, or callbacks, which may
    write into X, run between the steps, :func:`fit` checks the first
    column of dW1 before each optimizer step, unless a non-finite
    loss has already stopped the step. An optimizer that keeps nothing
    from the gradients (plain SGD, see
    :meth:`~glassnet.optimizers.Optimizer.keeps_gradient_state`) needs no
    such check: the divergence guard finds the non-finite update before any
    parameter changes. Either way :func:`fit` names the input's row and
    column (see :func:`_check_batch_input`). The steps on the batches
    before that one keep their updates.
    """
    remembered = network._checked_input
    if remembered is not None and remembered[0]() is X and remembered[1] == _memory_layout(X):
        return cast("FloatArray", X), False
    prepared = network.prepare_input(X)
    if prepared is X:
        network._checked_input = (weakref.ref(prepared), _memory_layout(prepared))
    return prepared, True


def _batch_buffers(network: Sequential, rows: int, X: FloatArray, t: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return arrays for ``rows`` samples of X and of t, kept on the network for the next :func:`fit`.

    A new array's pages are mapped on first write, which at batch 1024 of 784
    features took a few percent of a short epoch, so a loop that calls fit
    once per epoch reuses the last pair. Arrays of more than
    ``_KEPT_BATCH_BYTES`` together are not kept, because with a batch as
    large as the data set they would hold a second copy of X after training.
    """
    key = (rows, X.shape[1], X.dtype, t.shape[1], t.dtype)
    previous = network._batch_buffers
    if previous is not None and previous[0] == key:
        return previous[1], previous[2]
    X_batch = aligned_empty((rows, X.shape[1]), X.dtype)
    t_batch = aligned_empty((rows, t.shape[1]), t.dtype)
    network._batch_buffers = None
    if X_batch.nbytes + t_batch.nbytes <= _KEPT_BATCH_BYTES:
        network._batch_buffers = (key, X_batch, t_batch)
    return X_batch, t_batch


# Mini-batch arrays up to this size are kept on the network between fit calls (see _batch_buffers).
_KEPT_BATCH_BYTES = 16 << 20


def _release_batch_arrays(network: Sequential, X_batch: FloatArray, t_batch: FloatArray) -> None:
    """Drop the first Dense layer's cached input when it is a view of batch arrays the network does not keep.

    Without this, the cache would hold the arrays that :func:`_batch_buffers`
    chose not to keep until the next forward pass. The next backward pass
    then needs a forward pass first, as it always does.
    """
    stored = network._batch_buffers
    if stored is not None and stored[1] is X_batch and stored[2] is t_batch:
        return
    first = network.dense_layers[0]
    if first.x is not None and np.may_share_memory(first.x, X_batch):
        first.x = None


def _memory_layout(array: FloatArray) -> tuple[object, ...]:
    return (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype)


def _check_batch_input(xb: FloatArray, order: np.ndarray[Any, Any] | None, start: int) -> None:
    """Raise naming the row of X and the column when the batch ``xb`` contains NaN or inf."""
    _check_written(xb, order, start, "X contains", "X", _INPUT_FIX)


def _check_batch_targets(tb: FloatArray, order: np.ndarray[Any, Any] | None, start: int) -> None:
    """Raise naming the target row and column when the batch ``tb`` contains NaN or inf."""
    _check_written(tb, order, start, "targets contain", "the targets", _TARGET_FIX)


def _check_validation_data(X_val: FloatArray, t_val: FloatArray) -> None:
    """Raise naming the row and column when X_val or the validation targets contain NaN or inf."""
    _check_written(X_val, None, 0, "X_val contains", "X_val", _INPUT_FIX)
    _check_written(t_val, None, 0, "validation targets contain", "them", _TARGET_FIX)


_INPUT_FIX = "expected finite numbers. Remove or impute missing and infinite values first"
_TARGET_FIX = "remove or fill missing targets before training"


def _check_written(values: FloatArray, order: np.ndarray[Any, Any] | None, start: int, subject: str,
                   checked: str, fix: str) -> None:
    """Raise InvalidInputError for the first NaN or inf in ``values``, written after fit checked the data.

    ``values`` contains rows ``order[start:]`` of the whole array, or rows
    ``start:`` when ``order`` is None. The message starts with ``subject``
    (such as "X contains") and names the row of the whole array and the column.
    """
    if all_finite(values):
        return
    row, column = (int(i) for i in np.argwhere(~np.isfinite(values))[0])
    sample = start + row if order is None else int(order[start + row])
    raise InvalidInputError(
        f"{subject} {float(values[row, column])} at row {sample}, column {column} (written after fit checked "
        f"{checked}); {fix}"
    )


def callback_states(callbacks: Sequence[Callback]) -> list[dict[str, Any]]:
    """Return a copy of ``{"type": class name, "state": state_dict()}`` of every callback with ``state_dict``."""
    return [{"type": type(callback).__name__, "state": copy.deepcopy(callback.state_dict())}
            for callback in callbacks if hasattr(callback, "state_dict")]


def _load_callback_states(callbacks: Sequence[Callback], saved: Sequence[Mapping[str, Any]]) -> None:
    """Restore the state of every callback with ``load_state_dict``, in order, from a ResumePoint."""
    stateful = [callback for callback in callbacks if hasattr(callback, "load_state_dict")]
    saved_types = [entry["type"] for entry in saved]
    current_types = [type(callback).__name__ for callback in stateful]
    if saved_types != current_types:
        raise InvalidInputError(
            f"the run being resumed had the callbacks {saved_types}, this one has {current_types}; "
            "resume with the same schedule and early-stopping settings"
        )
    for callback, entry in zip(stateful, saved):
        callback.load_state_dict(entry["state"])


class FiniteGuard:
    """Runs the optimizer's steps so that a diverging step leaves the parameters untouched.

    Each :meth:`step` first computes every update without applying it
    (:meth:`~glassnet.optimizers.Optimizer.compute_updates`) and checks it:
    a NaN or inf in any parameter's update stops the step before a single
    parameter changes. A finite update can still overflow a parameter, but
    only a parameter near the largest float. So the guard keeps an upper bound on
    every parameter's largest magnitude. The bound starts at the exact value
    and grows at each step by the largest possible change, the update's L2
    norm, which one dot product over the update array gives (over the
    gradient, times the learning rate, for a plain SGD update that the BLAS
    applies, see :class:`~glassnet.optimizers.PendingUpdate`). While every bound
    stays below an eighth of the dtype's largest float, no overflow is
    possible and the update is applied directly, with no copy. Otherwise the
    guard copies the parameters, applies the update, checks every element and
    restores the copies if anything is not finite, then measures the bounds
    afresh. Either way, after a failed step the network holds exactly the
    parameters from before it.

    The bounds assume that only the optimizer changes the parameters between
    two calls of :meth:`refresh`; the first step after a call measures them
    again. The training loop calls it at the start of every epoch and after
    every batch whose callbacks may change parameters (see
    :attr:`Callback.modifies_parameters`).

    NOTE: optimizer state (step count, velocity, moment estimates) is not
    restored; after a divergence build a new optimizer before training again.
    """

    def __init__(self, network: Sequential, optimizer: Optimizer) -> None:
        self.network = network
        self.optimizer = optimizer
        self.limit = float(np.finfo(network.dtype).max) / 8
        self.bounds: dict[str, float] = {}

    def refresh(self) -> None:
        """Forget the bounds, so that the next step measures every parameter's largest magnitude exactly."""
        self.bounds = {}

    def step(self) -> str:
        """Take one optimizer step; return "" or, when it would diverge, a description of the problem."""
        rate = self.optimizer.learning_rate
        if not math.isfinite(rate):
            # Code outside the optimizer (a callback, for example) set it. Every update would be NaN or
            # inf, and the update checks below would report that as an overflow.
            return f"the learning rate became {float(rate)}"
        # The slots are fetched at every step: code run between steps may have replaced a
        # layer's arrays (building another network from the same layers does).
        slots = self.network._current_slots()
        updates = self.optimizer.compute_updates(slots)
        bounds: dict[str, float] = {}
        certain = True
        for update in updates:
            change = update.change
            square = float(np.vdot(change, change))  # sqrt(Σ c²) bounds max |c|; NaN or inf propagate
            if not math.isfinite(square):
                name = None if all_finite(change) else _non_finite_parameter(update)
                if name is not None:
                    return self._describe(name)
                # The sum of squares overflowed, or only the padding between the parameters of a flat
                # update is non-finite (an eps that is 0 in the dtype gives 0 / 0 there), which is part
                # of no parameter. Either way the update is applied with a copy and checked.
                certain = False
                continue
            bound = self.bounds.get(update.name)
            if bound is None:
                bound = _largest_magnitude(update.param)
            # In Python floats: a NumPy scalar learning rate would otherwise give float32 bounds, which overflow.
            growth = 2.0 * abs(float(update.rate)) * math.sqrt(square)
            bound = bounds[update.name] = bound * abs(float(update.scale)) + growth
            if not bound <= self.limit:  # also catches a NaN bound
                certain = False

        if not certain:
            return self._apply_with_copy(slots, updates)
        apply_updates(updates)
        self.bounds = bounds
        return ""

    def _apply_with_copy(self, slots: Slots, updates: list[PendingUpdate]) -> str:
        """Apply updates that could overflow: copy, apply, check every element, restore on failure."""
        for name, _, param, _ in slots:
            if not all_finite(param):
                return f"parameter {name} was already non-finite before the update (changed outside the optimizer)"
        saved = [np.array(update.param, copy=True) for update in updates]
        apply_updates(updates)
        for name, _, param, _ in slots:
            if not all_finite(param):
                for kept, previous in zip(updates, saved):
                    np.copyto(kept.param, previous)
                return f"the update made parameter {name} non-finite (overflow)"
        self.refresh()
        return ""

    def _describe(self, parameter: str) -> str:
        """Describe a non-finite update of ``parameter``: a non-finite gradient, or else an overflow."""
        for name, grad in self.network.gradients():
            if not all_finite(grad):
                index = tuple(int(i) for i in np.argwhere(~np.isfinite(grad))[0])
                return f"the gradient of {name} became {grad[index]} at index {index}"
        return f"the update of parameter {parameter} became non-finite (overflow)"


def _non_finite_parameter(update: PendingUpdate) -> str | None:
    """Return the first parameter whose slice of ``update.change`` is not all finite, or None.

    None means that only the padding between the parameters of a flat update is.
    """
    change = update.change.reshape(-1)
    return next((name for name, start, stop in update.layout if not all_finite(change[start:stop])), None)


def _largest_magnitude(array: FloatArray) -> float:
    """Return max |x| over ``array`` as a float (0 for an empty array), inf or NaN if any element is."""
    if array.size == 0:
        return 0.0
    return max(float(np.max(array)), -float(np.min(array)))


def _raise_diverged(epoch: int, step: int, problem: str, history: History) -> NoReturn:
    error = DivergenceError(
        f"training diverged at epoch {epoch}, step {step}: {problem}. "
        "Lower the learning rate (e.g. by 10x) or standardise the inputs; "
        "the network keeps the last parameters that were all finite",
        epoch=epoch, step=step,
    )
    error.history = history
    raise error


def accuracy_metric(network: Sequential, X: FloatArray, t: FloatArray) -> float:
    """Validation accuracy for one-hot, label or single-sigmoid targets."""
    network.eval()
    try:
        y = network.forward_prepared(X)
    finally:
        network.train()
    if y.shape[1] == 1:
        return float(np.mean((y[:, 0] >= 0.5) == (t[:, 0] >= 0.5)))
    return float(np.mean(np.argmax(y, axis=1) == np.argmax(t, axis=1)))
