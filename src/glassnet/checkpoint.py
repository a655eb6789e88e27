"""Checkpoints: save a training run between batches and continue it bitwise.

A checkpoint is a glassnet file of kind ``checkpoint`` (see
:mod:`glassnet.serialization`). Besides the architecture and parameters it
stores the optimizer state, the epoch, the position inside the epoch, the
step count, the shuffling generator's state before the epoch's permutation,
the Dropout generators' states and the history so far. Resuming with the same
data and configuration therefore gives parameters bitwise identical to an
uninterrupted run.

Two callbacks write checkpoints during :func:`glassnet.training.fit`:
:class:`CheckpointEvery` every N epochs, and :class:`InterruptCheckpoint` when
the user presses Ctrl-C (SIGINT), after the batch in progress.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO, cast

import numpy as np

from ._typing import FloatArray, JSONDict, RunState, StrPath
from .errors import InvalidInputError, ModelFileError
from .serialization import (
    network_arrays,
    network_config,
    network_from_file_parts,
    optimizer_from_file_parts,
    optimizer_parts,
    read_archive,
    write_archive,
)
from .training import Callback, ResumePoint, callback_states
from .validation import check_positive_int

if TYPE_CHECKING:
    from .layers import Dropout
    from .network import Sequential
    from .optimizers import Optimizer

logger = logging.getLogger(__name__)


@dataclass
class Checkpoint:
    """A loaded checkpoint: everything needed to continue a run.

    Attributes
    ----------
    network : Sequential
        The network at the checkpoint, with its parameters.
    optimizer : Optimizer
        The optimizer with its state (velocity, moments, step count).
    point : ResumePoint
        Where :func:`~glassnet.training.fit` continues.
    layer_rngs : list of dict
        ``{"layer": index, "group": index, "state": bit_generator.state}`` for
        every layer with its own generator (Dropout); layers of one group
        shared one generator.
    config : dict or None
        Training configuration of the run (``TrainConfig.to_dict()``).
    data : dict or None
        Where the training data came from, e.g. ``{"dataset": "moons"}``.
    """

    network: Sequential
    optimizer: Optimizer
    point: ResumePoint
    layer_rngs: list[JSONDict] = field(default_factory=list)
    config: JSONDict | None = None
    data: JSONDict | None = None

    def restore(self, network: Sequential, optimizer: Optimizer) -> ResumePoint:
        """Copy the checkpoint into a freshly built ``network`` and ``optimizer``; return the ResumePoint.

        The network must have the checkpoint's architecture and the optimizer
        its type; both are checked before anything is changed.
        """
        if _architecture(network) != _architecture(self.network):
            raise InvalidInputError(
                "the checkpoint was written for a different network "
                f"({_describe(self.network)}), not {_describe(network)}; resume with the checkpoint's settings"
            )
        if type(optimizer) is not type(self.optimizer):
            raise InvalidInputError(
                f"the checkpoint contains {self.optimizer!r} state, not {type(optimizer).__name__}; "
                "resume with the checkpoint's optimizer"
            )
        network.set_parameters(self.network.get_parameters())
        optimizer.load_state_dict(self.optimizer.state_dict())
        optimizer.learning_rate = self.optimizer.learning_rate
        _restore_layer_rngs(network, self.layer_rngs)
        return self.point


def resume_point(state: RunState) -> ResumePoint:
    """Return the :class:`ResumePoint` of a :class:`~glassnet.training.TrainingState` between batches."""
    history = state.history
    records = [dict(record) for record in history.records]
    states = callback_states(state.callbacks)
    epoch_recorded = bool(history.records) and history.records[-1]["epoch"] == state.epoch
    if state.epoch == 0 or (epoch_recorded and state.position >= state.n_train):
        # Between epochs: the next epoch starts afresh from the generator as it is now.
        return ResumePoint(epoch=state.epoch + 1, position=0, step=state.step,
                           rng_state=dict(state.rng.bit_generator.state), total_loss=0.0, records=records,
                           callback_states=states)
    if state.epoch_rng_state is None:
        raise InvalidInputError(
            f"the training state is inside epoch {state.epoch} but has epoch_rng_state=None, so the run "
            "cannot be resumed from it; save checkpoints from a callback of glassnet.training.fit"
        )
    before_record = _before_partial_record(state)
    if epoch_recorded:
        # A step or time budget stopped fit inside the epoch, and fit recorded the part it ran. The
        # resumed run finishes the epoch and records all of it, with the callbacks as they were before
        # they saw the partial record (a plateau count, a best loss), as in an uninterrupted run.
        records = records[:-1]
        if before_record is not None:
            states = before_record["callback_states"]
    return ResumePoint(epoch=state.epoch, position=state.position, step=state.step,
                       rng_state=state.epoch_rng_state, total_loss=state.total_loss, records=records,
                       callback_states=states)


def _before_partial_record(state: RunState) -> dict[str, Any] | None:
    """Return what fit kept from before the record of the epoch that ``state`` stopped inside, or None.

    It applies while the last record is that partial epoch's. A state not made by fit may lack the field.
    """
    history = state.history
    before_record = getattr(state, "before_partial_record", None)
    if (before_record is None or before_record["epoch"] != state.epoch or state.position >= state.n_train
            or not history.records or history.records[-1]["epoch"] != state.epoch):
        return None
    return cast("dict[str, Any]", before_record)


def save_checkpoint(path: StrPath, state: RunState, *, config: JSONDict | None = None,
                    data: JSONDict | None = None) -> None:
    """Write a checkpoint of the run in ``state`` (a TrainingState) to ``path``, atomically."""
    point = resume_point(state)
    callback_metadata, callback_arrays = _callback_parts(point.callback_states)
    network = state.network
    optimizer_metadata, optimizer_arrays = optimizer_parts(state.optimizer)
    before_record = _before_partial_record(state)
    if before_record is not None:
        # A callback such as ReduceLROnPlateau may have changed the rate on the partial record.
        optimizer_metadata["config"]["learning_rate"] = before_record["learning_rate"]
    metadata = {
        "kind": "checkpoint",
        "network": network_config(network),
        "optimizer": optimizer_metadata,
        "training": {
            "epoch": point.epoch,
            "position": point.position,
            "step": point.step,
            "rng_state": point.rng_state,
            "total_loss": point.total_loss,
            "records": point.records,
            "callbacks": callback_metadata,
            "epochs": state.epochs,
            "batch_size": state.batch_size,
        },
        "layer_rngs": _layer_rng_states(network),
        "config": config,
        "data": data,
    }
    arrays = network_arrays(network)
    arrays.update(optimizer_arrays)
    arrays.update(callback_arrays)
    write_archive(path, metadata, arrays)


def load_checkpoint(path: StrPath) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    ModelFileError
        If the file is missing, not a checkpoint, or fails any check.
    """
    metadata, arrays = read_archive(path, kinds=("checkpoint",))
    for name in arrays:
        if not name.startswith(("network/", "optimizer/", "callbacks/")):
            raise ModelFileError(f"{path}: unexpected array {name!r} in a checkpoint")
    network = network_from_file_parts(metadata.get("network"), arrays, path)
    optimizer = optimizer_from_file_parts(metadata.get("optimizer"), arrays, network, path)
    point = _read_point(metadata.get("training"), arrays, path)
    layer_rngs = _read_layer_rngs(metadata.get("layer_rngs"), network, path)
    for key in ("config", "data"):
        if metadata.get(key) is not None and not isinstance(metadata[key], dict):
            raise ModelFileError(f"{path}: {key} must be a mapping or null")
    _restore_layer_rngs(network, layer_rngs)
    return Checkpoint(network=network, optimizer=optimizer, point=point, layer_rngs=layer_rngs,
                      config=metadata.get("config"), data=metadata.get("data"))


def _architecture(network: Sequential) -> tuple[str, list[JSONDict]]:
    # The initialiser name is not part of the architecture: parameters are restored anyway.
    layers = [{key: value for key, value in layer.config().items() if key != "init"} for layer in network.layers]
    return network.dtype.name, layers


def _describe(network: Sequential) -> str:
    sizes = [network.dense_layers[0].in_features] + [layer.out_features for layer in network.dense_layers]
    return f"sizes {sizes}, {network.dtype.name}, {len(network.layers)} layers"


def _layer_rng_states(network: Sequential) -> list[JSONDict]:
    groups: dict[int, int] = {}
    saved: list[JSONDict] = []
    for position, layer in enumerate(network.layers):
        rng = getattr(layer, "rng", None)
        if rng is None:
            continue
        group = groups.setdefault(id(rng), position)
        saved.append({"layer": position, "group": group, "state": rng.bit_generator.state})
    return saved


def _restore_layer_rngs(network: Sequential, layer_rngs: list[JSONDict]) -> None:
    shared: dict[int, np.random.Generator] = {}
    for entry in layer_rngs:
        layer = cast("Dropout", network.layers[entry["layer"]])
        if entry["group"] in shared:
            layer.rng = shared[entry["group"]]
            continue
        layer.rng.bit_generator.state = entry["state"]
        shared[entry["group"]] = layer.rng


def _check_generator_state(value: Any, what: str, path: StrPath) -> None:
    try:
        np.random.PCG64().state = value
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"{path}: {what} is not a valid PCG64 generator state ({exc})") from exc


def _callback_parts(callback_states: list[JSONDict]) -> tuple[list[JSONDict], dict[str, FloatArray]]:
    """Split callback states into JSON metadata and arrays.

    A state value that is an array, or a mapping of names to arrays (such as
    early stopping's best parameters), is stored as archive arrays under
    ``callbacks/<index>/<key>``. The metadata keeps ``{"arrays": {...}}`` or
    ``{"array": name}`` in its place.
    """
    metadata: list[JSONDict] = []
    arrays: dict[str, FloatArray] = {}
    for index, entry in enumerate(callback_states):
        saved: JSONDict = {}
        for key, value in entry["state"].items():
            prefix = f"callbacks/{index}/{key}"
            if isinstance(value, np.ndarray):
                arrays[prefix] = value
                saved[key] = {"array": prefix}
            elif isinstance(value, dict) and value and all(isinstance(v, np.ndarray) for v in value.values()):
                names: dict[str, str] = {}
                for name, array in value.items():
                    arrays[f"{prefix}/{name}"] = array
                    names[name] = f"{prefix}/{name}"
                saved[key] = {"arrays": names}
            else:
                saved[key] = value
        metadata.append({"type": entry["type"], "state": saved})
    return metadata, arrays


def _read_callback_states(saved: object, arrays: Mapping[str, FloatArray], path: StrPath) -> list[JSONDict]:
    if not isinstance(saved, list):
        raise ModelFileError(f"{path}: training callbacks must be a list")
    used: set[str] = set()
    states: list[JSONDict] = []
    for entry in saved:
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str) \
                or not isinstance(entry.get("state"), dict):
            raise ModelFileError(f"{path}: every training callback entry needs a 'type' string and a 'state' mapping")
        state = {}
        for key, value in entry["state"].items():
            if isinstance(value, dict) and set(value) == {"array"}:
                names = {None: value["array"]}
            elif isinstance(value, dict) and set(value) == {"arrays"} and isinstance(value["arrays"], dict):
                names = value["arrays"]
            else:
                state[key] = value
                continue
            for name in names.values():
                if not isinstance(name, str) or not name.startswith("callbacks/") or name not in arrays:
                    raise ModelFileError(f"{path}: callback state {key!r} refers to the missing array {name!r}")
                used.add(name)
            state[key] = arrays[names[None]] if None in names else {k: arrays[v] for k, v in names.items()}
        states.append({"type": entry["type"], "state": state})
    unused = sorted(name for name in arrays if name.startswith("callbacks/") and name not in used)
    if unused:
        raise ModelFileError(f"{path}: the arrays {unused} belong to no training callback")
    return states


def _read_point(training: object, arrays: Mapping[str, FloatArray], path: StrPath) -> ResumePoint:
    if not isinstance(training, dict):
        raise ModelFileError(f"{path}: the checkpoint has no 'training' mapping")
    numbers: dict[str, int] = {}
    for key in ("epoch", "position", "step"):
        value = training.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ModelFileError(f"{path}: training {key}={value!r} must be an integer >= 0")
        numbers[key] = value
    if numbers["epoch"] < 1:
        raise ModelFileError(f"{path}: training epoch={numbers['epoch']} must be >= 1")
    total_loss = training.get("total_loss")
    if isinstance(total_loss, bool) or not isinstance(total_loss, (int, float)):
        raise ModelFileError(f"{path}: training total_loss={total_loss!r} must be a number")
    records = training.get("records")
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise ModelFileError(f"{path}: training records must be a list of mappings")
    _check_generator_state(training.get("rng_state"), "the shuffling generator state", path)
    callback_states = _read_callback_states(training.get("callbacks", []), arrays, path)
    return ResumePoint(epoch=numbers["epoch"], position=numbers["position"], step=numbers["step"],
                       rng_state=training["rng_state"], total_loss=float(total_loss), records=records,
                       callback_states=callback_states)


def _read_layer_rngs(layer_rngs: object, network: Sequential, path: StrPath) -> list[JSONDict]:
    if not isinstance(layer_rngs, list):
        raise ModelFileError(f"{path}: layer_rngs must be a list")
    with_generator = [position for position, layer in enumerate(network.layers) if hasattr(layer, "rng")]
    listed = [entry.get("layer") if isinstance(entry, dict) else None for entry in layer_rngs]
    if listed != with_generator:
        raise ModelFileError(f"{path}: layer_rngs lists layers {listed}; the network's Dropout layers are "
                             f"{with_generator}")
    for entry in layer_rngs:
        if entry.get("group") not in with_generator or entry["group"] > entry["layer"]:
            raise ModelFileError(f"{path}: layer_rngs group {entry.get('group')!r} is not a Dropout layer")
        _check_generator_state(entry.get("state"), f"the generator of layer {entry['layer']}", path)
    return layer_rngs


class CheckpointEvery(Callback):
    """Save a checkpoint every ``every`` epochs (and after the last one), replacing the previous one.

    Parameters
    ----------
    path : str or Path
    every : int
        Interval in epochs, >= 1.
    config, data : dict, optional
        Stored in the checkpoint so ``glassnet train --resume`` can rebuild the run.
    """

    def __init__(self, path: StrPath, every: int, *, config: JSONDict | None = None,
                 data: JSONDict | None = None) -> None:
        self.path = path
        self.every = check_positive_int(every, "checkpoint_every")
        self.config = config
        self.data = data

    def on_epoch_end(self, state: RunState) -> None:
        if state.epoch % self.every == 0 or state.epoch == state.epochs:
            save_checkpoint(self.path, state, config=self.config, data=self.data)
            logger.info("saved checkpoint %s at epoch %d", self.path, state.epoch)


class InterruptCheckpoint(Callback):
    """On Ctrl-C (SIGINT), stop after the current batch and save a checkpoint.

    The first Ctrl-C sets a flag that :func:`~glassnet.training.fit` reads
    after each batch, so the parameters are never left half updated. A second
    Ctrl-C raises KeyboardInterrupt at once. Outside the main thread, where Python cannot
    install signal handlers, this callback does nothing.

    Attributes
    ----------
    interrupted : bool
        True once a Ctrl-C stopped training and the checkpoint was written.
    """

    modifies_parameters = False  # on_batch_end only reads the state

    def __init__(self, path: StrPath, *, config: JSONDict | None = None, data: JSONDict | None = None,
                 stream: TextIO | None = None) -> None:
        self.path = path
        self.config = config
        self.data = data
        self.stream = stream
        self.requested = False
        self.interrupted = False
        self._previous_handler: signal.Handlers | Callable[[int, FrameType | None], Any] | int | None = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def close(self) -> None:
        """Put back the previous SIGINT handler; call it if :func:`fit` raised."""
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None

    def on_train_begin(self, state: RunState) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._handle)

    def on_batch_end(self, state: RunState) -> None:
        if not self.requested or self.interrupted:
            return
        # Saved here, before any on_train_end hook (such as early stopping
        # restoring its best weights) changes the network.
        save_checkpoint(self.path, state, config=self.config, data=self.data)
        self.interrupted = True
        state.stop_reason = "interrupted by Ctrl-C"
        state.stop_now = True

    def on_train_end(self, state: RunState) -> None:
        self.close()
        if not self.interrupted:
            return
        print(f"interrupted at epoch {state.epoch}, step {state.step}: checkpoint saved to {self.path}; "
              f"continue with: glassnet train --resume {self.path}", file=self.stream or sys.stdout, flush=True)
