"""Network files: a network, its input batch, targets, loss and optimizer in TOML or JSON.

The format is documented in ``docs/network-files.md``. In short (TOML; JSON
uses the same keys)::

    [network]
    dtype = "float64"          # optional; float64 (default) or float32
    seed = 0                   # optional; seeds layers without explicit W

    [[layers]]                 # one table per Dense layer, input to output
    in_features = 2
    out_features = 2
    W = [[0.3, 0.4], [0.5, 0.6]]   # optional, shape (in_features, out_features)
    b = [0.1, 0.2]                 # optional, shape (out_features,)
    activation = "relu"

    [data]
    X = [[0.1, 0.2]]           # input batch, shape (batch, in_features)
    t = [[1.0]]                # targets, shape (batch, out_features)

    [training]
    loss = "half-squared-error"
    reduction = "mean"         # or "sum" (e.g. the total error Σ ½(t - y)²)
    optimizer = "sgd"
    learning_rate = 0.1
    steps = 1

Every invalid entry raises :class:`~glassnet.errors.InvalidInputError` whose
message names the key (``layers[1].W``), the value seen and what is expected.
"""

from __future__ import annotations

import functools
import json
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._typing import FloatArray, JSONDict, StrPath
from .errors import DivergenceError, InvalidInputError, InvalidTypeError
from .initializers import INITIALIZERS
from .layers import ACTIVATIONS, Dense, Dropout, Layer, make_activation
from .losses import LOSSES, REDUCTIONS, Loss, get_loss
from .network import Sequential
from .optimizers import OPTIMIZERS, Optimizer, get_optimizer

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from .trace import Trace

TOP_LEVEL_KEYS = ("network", "layers", "data", "training")
NETWORK_KEYS = ("dtype", "seed", "name", "description")
LAYER_KEYS = ("type", "in_features", "out_features", "W", "b", "init", "activation", "alpha", "dropout")
DATA_KEYS = ("X", "t")
# Keys of [training] read here; any other key is passed to the optimizer.
# Each traced step keeps copies of every quantity, so traced runs are capped.
MAX_TRACED_STEPS = 10_000

TRAINING_KEYS = ("loss", "reduction", "optimizer", "learning_rate", "steps")
OPTIMIZER_OPTIONS: dict[str, tuple[str, ...]] = {
    "sgd": ("momentum", "nesterov", "weight_decay", "clip_norm"),
    "adam": ("beta1", "beta2", "eps", "weight_decay", "clip_norm"),
    "adamw": ("beta1", "beta2", "eps", "weight_decay", "clip_norm"),
    "rmsprop": ("alpha", "eps", "weight_decay", "clip_norm"),
}
# Bundled examples, by the name `glassnet step NAME` accepts.
EXAMPLES = {
    "lesson": "lesson.toml",
    "sigmoid-2-2-2": "sigmoid-2-2-2.toml",
}
# The examples folder of an installed package. Reading it directly, not through importlib.resources,
# spares ``glassnet demo`` the import of zipfile and tempfile (about 8 ms).
EXAMPLES_DIR = Path(__file__).with_name("examples")


@dataclass
class Problem:
    """Everything a network file states: the network, a batch, and how to train on it."""

    network: Sequential
    X: FloatArray
    t: FloatArray
    loss: Loss
    optimizer: Optimizer
    steps: int = 1
    source: str = ""
    settings: JSONDict = field(default_factory=dict)
    name: str = ""
    description: str = ""

    def run(self, steps: int | None = None) -> list[Trace]:
        """Run ``steps`` traced training steps and return their traces.

        Raises DivergenceError at the first step that records a non-finite
        value (an overflow from too large a learning rate or too large inputs),
        rather than explaining NaN or infinite numbers.
        """
        count = steps or self.steps
        if count > MAX_TRACED_STEPS:
            raise InvalidInputError(
                f"steps = {count} is too many to trace: every step keeps all its quantities in memory. "
                f"Use at most {MAX_TRACED_STEPS}, or train with glassnet.training.fit, which keeps no trace"
            )
        traces: list[Trace] = []
        for _ in range(count):
            # The check below reports overflow, so NumPy's warnings are silenced.
            with np.errstate(over="ignore", invalid="ignore"):
                trace = self.network.step(self.X, self.t, self.loss, self.optimizer, trace=True)
            _check_finite(trace, len(traces) + 1)
            traces.append(trace)
        return traces


def _check_finite(trace: Trace, step: int) -> None:
    values = [(q.symbol, q.value) for q in trace] + list(trace.parameters_after.items())
    for symbol, value in values:
        value = np.asarray(value)
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            bad = value[~np.isfinite(value)].flat[0]
            raise DivergenceError(
                f"step {step} diverged: {symbol} became {bad}. Lower the learning rate "
                "(e.g. by 10x) or scale the inputs down",
                epoch=step, step=step,
            )


def lesson_path() -> Traversable:
    """Return the path of the bundled lesson network file."""
    return example_path("lesson")


def example_path(name: str) -> Traversable:
    """Return the path of a bundled example network file (``lesson``, ``sigmoid-2-2-2``)."""
    if name not in EXAMPLES:
        raise InvalidInputError(f"no bundled example {name!r}; the examples are: {', '.join(EXAMPLES)}")
    if EXAMPLES_DIR.is_dir():
        return EXAMPLES_DIR / EXAMPLES[name]
    # glassnet was imported from somewhere other than a folder, such as a zip archive.
    from importlib import resources

    return resources.files("glassnet") / "examples" / EXAMPLES[name]


def read_text_file(file: Path, kind: str, missing_hint: str = "") -> str:
    """Return the UTF-8 text of a TOML or JSON input file, or raise naming ``kind`` and the file."""
    if file.is_dir():
        raise InvalidInputError(f"{kind} {str(file)!r} is a folder; give the path of a TOML or JSON file")
    if not file.is_file():
        raise InvalidInputError(f"{kind} {str(file)!r} does not exist; check the path {missing_hint}".rstrip())
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        # A saved model (a zip archive) is the usual binary file given here by mistake.
        raise InvalidInputError(
            f"{kind} {str(file)!r} is not UTF-8 text (byte {exc.start}); give a TOML or JSON file. "
            "A model saved by glassnet train is read with --model where a command accepts it"
        ) from exc


def load_problem(path: StrPath | None = None, overrides: Mapping[str, Any] | None = None) -> Problem:
    """Read a network file (TOML or JSON) and return a :class:`Problem`.

    Parameters
    ----------
    path : str or Path, optional
        A file path, or the name of a bundled example (``lesson``,
        ``sigmoid-2-2-2``). None loads the lesson.
    overrides : dict, optional
        Replaces keys of the ``[training]`` table (e.g. ``{"learning_rate": 0.5}``);
        ``hidden_activation`` changes every hidden layer's activation.
    """
    if path is None:
        path = "lesson"
    if isinstance(path, str) and path in EXAMPLES and not Path(path).exists():
        resource = example_path(path)
        text = resource.read_text(encoding="utf-8")
        source = path
        name = resource.name
    else:
        file = Path(path)
        text = read_text_file(file, "network file", f"or use a bundled example ({', '.join(EXAMPLES)})")
        source = str(file)
        name = file.name
    document = parse_network_text(text, name)
    return problem_from_dict(document, source=source, overrides=overrides)


def parse_network_text(text: str, name: str = "network.toml") -> Any:
    """Parse the text of a network file: JSON when ``name`` ends in ``.json``, TOML otherwise."""
    if name.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{name} is not valid JSON: {exc}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{name} is not valid TOML: {exc}") from exc


def _invalid(key: str, value: object, expected: str) -> InvalidInputError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return InvalidInputError(f"{key} = {shown} is invalid; expected {expected}")


def _check_keys(table: Iterable[str], key: str, allowed: Sequence[str]) -> None:
    unknown = [name for name in table if name not in allowed]
    if unknown:
        raise InvalidInputError(
            f"{key} has unknown key {unknown[0]!r}; expected one of: {', '.join(allowed)}"
        )


def _table(document: JSONDict, key: str, required: bool = True) -> JSONDict:
    value = document.get(key)
    if value is None:
        if required:
            raise InvalidInputError(f"the network file has no [{key}] table; add it (see docs/network-files.md)")
        return {}
    if not isinstance(value, dict):
        raise _invalid(key, value, "a table of keys and values")
    return value


def _integer(table: JSONDict, key: str, where: str, minimum: int = 1) -> int:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _invalid(f"{where}.{key}", value, f"an integer >= {minimum}")
    return value


def _number(table: JSONDict, key: str, where: str, default: float, minimum: float | None = None,
            below: float | None = None, allow_minimum: bool = True) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(f"{where}.{key}", value, "a finite number")
    too_small = minimum is not None and (value < minimum or (value == minimum and not allow_minimum))
    too_large = below is not None and value >= below
    if too_small or too_large:
        relation = f">= {minimum}" if allow_minimum else f"> {minimum}"
        if below is not None:
            relation += f" and < {below}"
        raise _invalid(f"{where}.{key}", value, f"a number {relation}")
    return value


def _choice(table: JSONDict, key: str, where: str, default: str, options: Sequence[str]) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or value.lower().replace("_", "-") not in [o.replace("_", "-") for o in options]:
        raise _invalid(f"{where}.{key}", value, f"one of: {', '.join(options)}")
    return value


def _matrix(value: object, key: str, shape: tuple[int, ...] | None) -> NDArray[np.float64]:
    """Return ``value`` as a float array of ``shape``, naming ``key`` in any error."""
    expected = f"numbers of shape {shape}" if shape else "an array of numbers"
    if isinstance(value, (str, bool, dict)) or value is None:
        raise _invalid(key, value, expected)
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _invalid(key, value, f"{expected} with rows of equal length") from None
    if shape is not None and array.shape != tuple(shape):
        raise InvalidInputError(
            f"{key} has shape {array.shape}; expected {tuple(shape)}"
            + (" (in_features rows, out_features columns)" if len(shape) == 2 and key.endswith(".W") else "")
        )
    if not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        where = f"row {bad[0]}, column {bad[1]}" if array.ndim == 2 else f"index {bad}"
        raise InvalidInputError(
            f"{key} contains {array[bad]} at {where}; expected finite numbers (no NaN or inf). "
            "Replace the value with a number"
        )
    return array


def _layer(table: object, index: int, previous_out: int | None, dtype: str,
           rng: Callable[[], np.random.Generator], activation_override: str | None) -> tuple[list[Layer], int]:
    where = f"layers[{index}]"
    if not isinstance(table, dict):
        raise _invalid(where, table, "a table with in_features, out_features and activation")
    _check_keys(table, where, LAYER_KEYS)
    kind = table.get("type", "dense")
    if kind != "dense":
        raise _invalid(f"{where}.type", kind, "'dense' (activations are given by the 'activation' key)")
    for key in ("in_features", "out_features"):
        if key not in table:
            raise InvalidInputError(f"{where} is missing '{key}'; expected an integer >= 1")
    in_features = _integer(table, "in_features", where)
    out_features = _integer(table, "out_features", where)
    if previous_out is not None and in_features != previous_out:
        raise InvalidInputError(
            f"{where}.in_features = {in_features} does not match layers[{index - 1}].out_features = "
            f"{previous_out}; expected {previous_out}"
        )
    W = None
    if "W" in table:
        W = _matrix(table["W"], f"{where}.W", (in_features, out_features))
    b = None
    if "b" in table:
        b = _matrix(table["b"], f"{where}.b", (out_features,))
    init = _choice(table, "init", where, "glorot_uniform", sorted(INITIALIZERS))
    activation = _choice(table, "activation", where, "identity", sorted(ACTIVATIONS))
    activation = activation.lower().replace("-", "_")
    if activation_override is not None:
        activation = activation_override
    if "alpha" in table and activation != "leaky_relu":
        raise InvalidInputError(f"{where}.alpha is set but {where}.activation = {activation!r}; "
                                "alpha is the slope of 'leaky_relu' only")
    dropout = _number(table, "dropout", where, 0.0, minimum=0.0, below=1.0)

    layers: list[Layer] = [Dense(in_features, out_features, W=W, b=b, init=init.replace("-", "_"),
                                  seed=rng() if W is None else None, dtype=dtype)]
    if activation not in ("identity", "linear"):
        options: dict[str, float] = {}
        if "alpha" in table:
            options["alpha"] = _number(table, "alpha", where, 0.01, minimum=0.0)
        layers.append(make_activation(activation, **options))
    if dropout:
        layers.append(Dropout(dropout, seed=rng()))
    return layers, out_features


def _network(document: JSONDict, overrides: dict[str, Any]) -> tuple[Sequential, JSONDict]:
    table = _table(document, "network", required=False)
    _check_keys(table, "network", NETWORK_KEYS)
    dtype = _choice(table, "dtype", "network", "float64", ["float32", "float64"])
    seed = table.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _invalid("network.seed", seed, "an integer >= 0")
    for key in ("name", "description"):
        if key in table and not isinstance(table[key], str):
            raise _invalid(f"network.{key}", table[key], "a string")

    layer_tables = document.get("layers")
    if layer_tables is None:
        raise InvalidInputError("the network file has no [[layers]] list; add one [[layers]] table per Dense layer")
    if not isinstance(layer_tables, list) or not layer_tables:
        raise _invalid("layers", layer_tables, "a non-empty list of tables, one per Dense layer")
    hidden_activation = overrides.pop("hidden_activation", None)
    # One generator for the whole file, made when a layer first draws from it, so that a file
    # that gives every weight does not import numpy.random.
    shared_rng = functools.cache(lambda: np.random.default_rng(seed))

    layers: list[Layer] = []
    previous_out: int | None = None
    for index, layer_table in enumerate(layer_tables):
        last = index == len(layer_tables) - 1
        override = None if last else hidden_activation
        new_layers, previous_out = _layer(layer_table, index, previous_out, dtype, shared_rng, override)
        layers.extend(new_layers)
    return Sequential(layers, dtype=dtype), table


def _optimizer(training: JSONDict) -> Optimizer:
    name = _choice(training, "optimizer", "training", "sgd", sorted(OPTIMIZERS)).lower()
    allowed = OPTIMIZER_OPTIONS.get(name, ())
    options: JSONDict = {}
    for key, value in training.items():
        if key in TRAINING_KEYS:
            continue
        if key not in allowed:
            raise InvalidInputError(
                f"training has unknown key {key!r} for optimizer {name!r}; expected one of: "
                f"{', '.join(TRAINING_KEYS + allowed)}"
            )
        options[key] = value
    options["learning_rate"] = _number(training, "learning_rate", "training", 0.1, minimum=0.0,
                                       allow_minimum=False)
    try:
        optimizer: Optimizer = get_optimizer(name, **options)
        return optimizer
    except (InvalidInputError, InvalidTypeError) as exc:
        raise InvalidInputError(f"training: {exc}") from exc


def problem_from_dict(document: object, source: str = "", overrides: Mapping[str, Any] | None = None) -> Problem:
    """Build a :class:`Problem` from a parsed network file (a dict as TOML or JSON gives it)."""
    if not isinstance(document, dict):
        raise _invalid("the top level", document, "a table (mapping) with [network], [[layers]], [data], [training]")
    _check_keys(document, "the network file", TOP_LEVEL_KEYS)
    overrides = dict(overrides or {})
    network, network_table = _network(document, overrides)

    data = _table(document, "data")
    _check_keys(data, "data", DATA_KEYS)
    for key in DATA_KEYS:
        if key not in data:
            raise InvalidInputError(f"data is missing '{key}'; expected "
                                    + ("the input batch, shape (batch, in_features)" if key == "X"
                                       else "the targets, shape (batch, out_features)"))
    X: FloatArray = _matrix(data["X"], "data.X", None)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2 or X.shape[1] != network.in_features:
        raise InvalidInputError(
            f"data.X has shape {X.shape}; expected (batch, {network.in_features}) because "
            f"layers[0].in_features = {network.in_features}"
        )
    X = network.prepare_input(X, "data.X")

    training = {**_table(document, "training", required=False), **overrides}
    loss_name = _choice(training, "loss", "training", "half-squared-error", sorted(LOSSES))
    reduction = _choice(training, "reduction", "training", "mean", list(REDUCTIONS))
    loss = get_loss(loss_name, reduction=reduction)
    t: FloatArray = _matrix(data["t"], "data.t", None)
    try:
        t = loss.prepare_targets(t, (X.shape[0], network.out_features), network.dtype)
    except InvalidInputError as exc:
        raise InvalidInputError(f"data.t: {exc}") from exc
    optimizer = _optimizer(training)
    steps = training.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise _invalid("training.steps", steps, "an integer >= 1")
    return Problem(network=network, X=X, t=t, loss=loss, optimizer=optimizer, steps=steps, source=source,
                   settings=training, name=network_table.get("name", ""),
                   description=network_table.get("description", ""))
