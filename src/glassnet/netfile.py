"""Network files: a network, its input batch, targets, loss and optimizer in TOML or JSON.

Format (TOML shown; JSON uses the same keys)::

    [network]
    dtype = "float64"          # optional; float64 (default) or float32
    seed = 0                   # optional; seeds layers without explicit W

    [[layers]]                 # one table per Dense layer, input to output
    type = "dense"
    in_features = 2
    out_features = 2
    W = [[0.3, 0.4], [0.5, 0.6]]   # optional, shape (in_features, out_features)
    b = [0.1, 0.2]                 # optional, shape (out_features,)
    init = "glorot_uniform"        # used when W is absent
    activation = "relu"            # optional; relu, leaky_relu, sigmoid, tanh, softmax, identity
    alpha = 0.01                   # leaky_relu only
    dropout = 0.0                  # optional dropout rate after the activation

    [data]
    X = [[0.1, 0.2]]           # input batch, shape (batch, in_features)
    t = [[1.0]]                # targets, shape (batch, out_features)

    [training]
    loss = "half-squared-error"    # or mean-squared-error, binary-cross-entropy, categorical-cross-entropy
    reduction = "mean"             # or "sum" (e.g. total error Σ ½(t - y)²)
    optimizer = "sgd"              # sgd, adam, adamw, rmsprop
    learning_rate = 0.1
    momentum = 0.0                 # other optimizer settings go here too
    steps = 1
"""

import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import InvalidInputError, InvalidTypeError
from .layers import Dense, Dropout, make_activation
from .losses import get_loss
from .network import Sequential
from .optimizers import OPTIMIZERS, get_optimizer

TOP_LEVEL_KEYS = {"network", "layers", "data", "training"}
LAYER_KEYS = {"type", "in_features", "out_features", "W", "b", "init", "activation", "alpha", "dropout"}
TRAINING_KEYS = {"loss", "reduction", "optimizer", "learning_rate", "steps"}


@dataclass
class Problem:
    """Everything a network file states: the network, a batch, and how to train on it."""

    network: Sequential
    X: np.ndarray
    t: np.ndarray
    loss: object
    optimizer: object
    steps: int = 1
    source: str = ""
    settings: dict = field(default_factory=dict)

    def run(self, steps=None):
        """Run ``steps`` traced training steps and return their traces."""
        return [self.network.step(self.X, self.t, self.loss, self.optimizer, trace=True)
                for _ in range(steps or self.steps)]


def lesson_path():
    """Return the path of the bundled lesson network file."""
    return resources.files("glassnet") / "examples" / "lesson.toml"


def load_problem(path=None, overrides=None):
    """Read a network file (TOML or JSON) and return a :class:`Problem`.

    ``path`` None loads the bundled lesson. ``overrides`` replaces keys of the
    ``[training]`` table (e.g. ``{"learning_rate": 0.5}``) and may set
    ``hidden_activation`` to change every hidden layer's activation.
    """
    if path is None:
        path = lesson_path()
        text = path.read_text(encoding="utf-8")
        source = "lesson"
    else:
        path = Path(path)
        if not path.is_file():
            raise InvalidInputError(f"network file {str(path)!r} does not exist; check the path")
        text = path.read_text(encoding="utf-8")
        source = str(path)
    document = _parse(text, str(path))
    return problem_from_dict(document, source=source, overrides=overrides)


def _parse(text, name):
    if name.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{name} is not valid JSON: {exc}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{name} is not valid TOML: {exc}") from exc


def _table(document, key, required=True):
    value = document.get(key)
    if value is None:
        if required:
            raise InvalidInputError(f"the network file has no [{key}] table; add it (see glassnet.netfile)")
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"'{key}' must be a table, got {type(value).__name__}")
    return value


def problem_from_dict(document, source="", overrides=None):
    """Build a :class:`Problem` from a parsed network file."""
    if not isinstance(document, dict):
        raise InvalidInputError("a network file must contain a table (mapping) at the top level")
    unknown = set(document) - TOP_LEVEL_KEYS
    if unknown:
        raise InvalidInputError(
            f"unknown top-level key(s) {sorted(unknown)}; expected {sorted(TOP_LEVEL_KEYS)}"
        )
    overrides = dict(overrides or {})
    network_table = _table(document, "network", required=False)
    dtype = network_table.get("dtype", "float64")
    seed = network_table.get("seed", 0)
    layer_tables = document.get("layers")
    if not isinstance(layer_tables, list) or not layer_tables:
        raise InvalidInputError("the network file needs a non-empty [[layers]] list, one table per Dense layer")
    hidden_activation = overrides.pop("hidden_activation", None)

    rng = np.random.default_rng(seed)
    layers = []
    for index, table in enumerate(layer_tables):
        where = f"layers[{index}]"
        if not isinstance(table, dict):
            raise InvalidInputError(f"{where} must be a table, got {table!r}")
        unknown = set(table) - LAYER_KEYS
        if unknown:
            raise InvalidInputError(f"{where} has unknown key(s) {sorted(unknown)}; expected some of {sorted(LAYER_KEYS)}")
        kind = table.get("type", "dense")
        if kind != "dense":
            raise InvalidInputError(f"{where}.type = {kind!r}; only 'dense' layers are listed, with an 'activation' key")
        for key in ("in_features", "out_features"):
            if key not in table:
                raise InvalidInputError(f"{where} is missing '{key}' (an integer >= 1)")
        try:
            dense = Dense(table["in_features"], table["out_features"], W=table.get("W"), b=table.get("b"),
                          init=table.get("init", "glorot_uniform"), seed=rng, dtype=dtype)
        except (InvalidInputError, InvalidTypeError) as exc:
            raise type(exc)(f"{where}: {exc}") from exc
        layers.append(dense)
        activation = table.get("activation", "identity")
        last = index == len(layer_tables) - 1
        if hidden_activation and not last:
            activation = hidden_activation
        if activation not in ("identity", "linear", None):
            options = {"alpha": table["alpha"]} if "alpha" in table else {}
            try:
                layers.append(make_activation(activation, **options))
            except (InvalidInputError, InvalidTypeError) as exc:
                raise type(exc)(f"{where}.activation: {exc}") from exc
        if table.get("dropout"):
            layers.append(Dropout(table["dropout"], seed=rng))
    network = Sequential(layers, dtype=dtype)

    data = _table(document, "data")
    for key in ("X", "t"):
        if key not in data:
            raise InvalidInputError(f"[data] is missing '{key}'")
    X = network.prepare_input(data["X"], "data.X")

    training = {**_table(document, "training", required=False), **overrides}
    loss = get_loss(training.get("loss", "half-squared-error"), reduction=training.get("reduction", "mean"))
    t = loss.prepare_targets(data["t"], (X.shape[0], network.out_features), network.dtype)
    name = training.get("optimizer", "sgd")
    if name not in OPTIMIZERS:
        raise InvalidInputError(f"training.optimizer = {name!r} is not known; use one of: {', '.join(OPTIMIZERS)}")
    options = {k: v for k, v in training.items() if k not in TRAINING_KEYS}
    options["learning_rate"] = training.get("learning_rate", 0.1)
    try:
        optimizer = get_optimizer(name, **options)
    except TypeError as exc:
        raise InvalidInputError(f"[training] has an option the {name} optimizer does not take: {exc}") from exc
    steps = training.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise InvalidInputError(f"training.steps = {steps!r} must be an integer >= 1")
    return Problem(network=network, X=X, t=t, loss=loss, optimizer=optimizer, steps=steps, source=source,
                   settings=training)
