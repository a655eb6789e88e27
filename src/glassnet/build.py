"""Builders: a network from a list of sizes, or from its saved configuration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .errors import InvalidInputError, InvalidTypeError
from .initializers import Initializer, as_generator
from .layers import ACTIVATIONS, Dense, Layer, make_activation
from .network import Sequential
from .validation import check_dtype, check_positive_int


def mlp(sizes: Sequence[int], activation: str = "relu", output: str = "identity", *,
        init: str | Initializer | None = None, seed: int | np.random.Generator | None = None,
        dtype: DTypeLike = "float32", dropout: float = 0.0) -> Sequential:
    """Build a multilayer perceptron.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``[784, 256, 128, 10]``.
    activation : str
        Hidden activation: ``relu``, ``leaky_relu``, ``tanh``, ``sigmoid``, ``identity``.
    output : str
        Output activation: ``identity``, ``sigmoid`` or ``softmax``.
    init : str, optional
        Weight initialiser; by default He (uniform) for ReLU-family hidden
        layers and Glorot (uniform) otherwise.
    seed : int or numpy.random.Generator, optional
    dtype : str
        ``"float32"`` (default) or ``"float64"``.
    dropout : float
        Dropout rate after each hidden activation (0 disables it).
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise InvalidTypeError(f"sizes={sizes!r} must be a list of layer widths, e.g. [4, 8, 3]")
    if len(sizes) < 2:
        raise InvalidInputError(f"sizes={list(sizes)} needs at least an input and an output width, e.g. [4, 3]")
    widths = [check_positive_int(size, f"sizes[{i}]") for i, size in enumerate(sizes)]
    rng = as_generator(seed)
    dtype = check_dtype(dtype)
    hidden_kind = str(activation).lower().replace("-", "_")
    if init is None:
        init = "he_uniform" if hidden_kind in ("relu", "leaky_relu") else "glorot_uniform"
    layers: list[Layer] = []
    for i in range(len(widths) - 1):
        layers.append(Dense(widths[i], widths[i + 1], init=init, seed=rng, dtype=dtype))
        last = i == len(widths) - 2
        if not last:
            layers.append(make_activation(activation))
            if dropout:
                from .layers import Dropout

                layers.append(Dropout(dropout, seed=rng))
        elif str(output).lower() not in ("identity", "linear", "none"):
            layers.append(make_activation(output))
    return Sequential(layers, dtype=dtype)


def network_from_config(config: Any, dtype: DTypeLike | None = None,
                        seed: int | np.random.Generator | None = None) -> Sequential:
    """Rebuild a network from :meth:`Sequential.config` output (parameters zeroed)."""
    if not isinstance(config, dict) or "layers" not in config:
        raise InvalidInputError("a network configuration must be a mapping with a 'layers' list")
    dtype = check_dtype(dtype or config.get("dtype", "float64"))
    rng = as_generator(seed if seed is not None else 0)
    layers: list[Layer] = []
    for position, spec in enumerate(config["layers"]):
        if not isinstance(spec, dict) or "type" not in spec:
            raise InvalidInputError(f"layers[{position}] must be a mapping with a 'type' key, got {spec!r}")
        kind = spec["type"]
        options = {k: v for k, v in spec.items() if k != "type"}
        if kind == "dense":
            # The initialiser name is kept so config() round-trips; W is given, so it draws nothing.
            layers.append(Dense(options["in_features"], options["out_features"],
                                W=np.zeros((options["in_features"], options["out_features"])),
                                init=str(options.get("init", "glorot_uniform")), dtype=dtype))
        elif kind == "dropout":
            from .layers import Dropout

            layers.append(Dropout(options.get("rate", 0.5), seed=rng))
        elif kind in ACTIVATIONS:
            layers.append(make_activation(kind, **options))
        else:
            valid = ", ".join(["dense", "dropout", *sorted(ACTIVATIONS)])
            raise InvalidInputError(f"layers[{position}] has type {kind!r}; expected one of: {valid}")
    return Sequential(layers, dtype=dtype)
