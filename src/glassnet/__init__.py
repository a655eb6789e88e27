"""glassnet: neural networks with explicit, verified and fast backpropagation.

The engine needs only NumPy. Import what you need::

    from glassnet import Sequential, Dense, ReLU, Sigmoid, SGD
"""

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
from .serialization import load_model, load_network, save_model, save_network
from .trace import Quantity, Trace

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
