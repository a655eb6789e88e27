"""glassnet: neural networks with explicit, verified and fast backpropagation.

The engine needs only NumPy. Import what you need::

    from glassnet import Sequential, Dense, ReLU, Sigmoid, SGD
"""

from typing import TYPE_CHECKING

from .build import mlp, network_from_config
from .errors import (
    DivergenceError,
    GlassnetError,
    InvalidInputError,
    InvalidTypeError,
    MissingDependencyError,
    ModelFileError,
    NotFittedError,
)
from .gradcheck import gradcheck
from .layers import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    HalfSquaredError,
    MeanSquaredError,
    get_loss,
)
from .network import Sequential
from .optimizers import SGD, Adam, AdamW, RMSprop, get_optimizer
from .trace import Quantity, Trace

if TYPE_CHECKING:
    from . import serialization
    from .serialization import load_model, load_network, save_model, save_network

__version__ = "0.1.0"

__all__ = [
    "Adam",
    "AdamW",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "Dense",
    "DivergenceError",
    "GlassnetError",
    "HalfSquaredError",
    "Identity",
    "InvalidInputError",
    "InvalidTypeError",
    "LeakyReLU",
    "MeanSquaredError",
    "MissingDependencyError",
    "ModelFileError",
    "NotFittedError",
    "Quantity",
    "RMSprop",
    "ReLU",
    "SGD",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Trace",
    "__version__",
    "get_loss",
    "get_optimizer",
    "gradcheck",
    "load_model",
    "load_network",
    "mlp",
    "network_from_config",
    "save_model",
    "save_network",
]

# Names whose module is imported on first use, and the modules themselves. The file formats pull in
# zipfile, tempfile and pathlib, which ``glassnet demo`` and a network built in code never need.
_LAZY = {name: "serialization" for name in ("load_model", "load_network", "save_model", "save_network")}
_LAZY_MODULES = ("serialization",)

if not TYPE_CHECKING:
    # Type checkers read the imports above instead. A module __getattr__ they could see would make
    # them accept every attribute of glassnet, a misspelled name included.

    def __getattr__(name: str) -> object:
        import importlib

        if name in _LAZY_MODULES:
            # Importing a submodule also binds it as an attribute of this package.
            return importlib.import_module(f".{name}", __name__)
        module_name = _LAZY.get(name)
        if module_name is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module_name}", __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY_MODULES))
