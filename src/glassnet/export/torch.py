"""PyTorch export and import: the same network as a ``torch.nn.Sequential``.

glassnet's Dense layer computes ``z = x · W + b`` with ``W`` of shape
(in_features, out_features); PyTorch's ``nn.Linear`` computes
``z = x · weightᵀ + bias`` with ``weight`` of shape (out_features,
in_features). Export therefore stores ``weight = Wᵀ`` and import reads
``W = weightᵀ``; the values are copied exactly, so a round trip is bitwise.

Layer mapping, both ways: Dense and ``nn.Linear``, ReLU and ``nn.ReLU``,
LeakyReLU(alpha) and ``nn.LeakyReLU(negative_slope)``, Sigmoid and
``nn.Sigmoid``, Tanh and ``nn.Tanh``, Softmax and ``nn.Softmax(dim=1)``,
Identity and ``nn.Identity``, Dropout(rate) and ``nn.Dropout(p)``.

Only the network crosses over: a :class:`glassnet.model.Model`'s input
standardisation and label names stay with glassnet, so apply
``model.transform`` to the inputs before the PyTorch module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInputError, InvalidTypeError, require
from ..layers import Dense, Dropout, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from ..network import Sequential
from ..validation import check_dtype
from ._source import export_source

TORCH_DTYPES = {"float32": "float32", "float64": "float64"}


def to_torch(model: Any) -> Any:
    """Return a ``torch.nn.Sequential`` with the layers and parameters of ``model``'s network.

    Parameters
    ----------
    model : Sequential, glassnet.model.Model, GlassClassifier or GlassRegressor

    Returns
    -------
    torch.nn.Sequential
        In the network's dtype (float32 or float64), in training mode like a
        fresh PyTorch module. Its ``state_dict`` keys are ``"<index>.weight"``
        and ``"<index>.bias"``, with ``weight`` of shape (out_features, in_features).
    """
    torch = require("torch", "torch", "PyTorch export")
    network = export_source(model).network
    torch_dtype = getattr(torch, TORCH_DTYPES[network.dtype.name])
    modules = []
    for layer in network.layers:
        if isinstance(layer, Dense):
            linear = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch_dtype)
            with torch.no_grad():
                # nn.Linear stores the transpose of glassnet's W: (out, in) against (in, out).
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.params["W"].T)))
                linear.bias.copy_(torch.from_numpy(np.array(layer.params["b"], copy=True)))
            modules.append(linear)
        elif isinstance(layer, LeakyReLU):
            modules.append(torch.nn.LeakyReLU(negative_slope=layer.alpha))
        elif isinstance(layer, ReLU):
            modules.append(torch.nn.ReLU())
        elif isinstance(layer, Sigmoid):
            modules.append(torch.nn.Sigmoid())
        elif isinstance(layer, Tanh):
            modules.append(torch.nn.Tanh())
        elif isinstance(layer, Softmax):
            modules.append(torch.nn.Softmax(dim=1))
        elif isinstance(layer, Identity):
            modules.append(torch.nn.Identity())
        elif isinstance(layer, Dropout):
            modules.append(torch.nn.Dropout(p=layer.rate))
        else:
            raise NotImplementedError(
                f"layer {layer.name} of kind {layer.kind!r} has no PyTorch counterpart in glassnet's export"
            )
    return torch.nn.Sequential(*modules)


def from_torch(module: Any, dtype: str | None = None) -> Sequential:
    """Return a glassnet :class:`~glassnet.network.Sequential` built from a ``torch.nn.Sequential``.

    Parameters
    ----------
    module : torch.nn.Sequential
        Made of ``nn.Linear``, ``nn.ReLU``, ``nn.LeakyReLU``, ``nn.Sigmoid``,
        ``nn.Tanh``, ``nn.Softmax(dim=1)`` (or ``dim=-1``), ``nn.Identity``
        and ``nn.Dropout``, starting with ``nn.Linear``.
    dtype : {"float32", "float64"}, optional
        The network's dtype; by default the dtype of the first Linear weight.

    Raises
    ------
    InvalidTypeError
        When ``module`` is not a ``torch.nn.Sequential``.
    NotImplementedError
        When it contains a module with no glassnet layer.
    """
    torch = require("torch", "torch", "PyTorch import")
    if not isinstance(module, torch.nn.Sequential):
        raise InvalidTypeError(
            f"module is a {type(module).__name__}; expected a torch.nn.Sequential of Linear and activation modules"
        )
    children = list(module.children())
    if dtype is None:
        linears = [child for child in children if isinstance(child, torch.nn.Linear)]
        if not linears:
            raise InvalidInputError("module contains no torch.nn.Linear layer; a glassnet network needs at least one")
        dtype = str(linears[0].weight.dtype).replace("torch.", "")
    resolved = check_dtype(dtype)
    layers: list[Any] = []
    for position, child in enumerate(children):
        layers.append(_glassnet_layer(torch, child, position, resolved))
    return Sequential(layers, dtype=resolved)


def _glassnet_layer(torch: Any, child: Any, position: int, dtype: np.dtype[Any]) -> Any:
    nn = torch.nn
    if isinstance(child, nn.Linear):
        weight = child.weight.detach().cpu().numpy()
        if child.bias is None:
            bias = np.zeros(child.out_features, dtype=weight.dtype)
        else:
            bias = child.bias.detach().cpu().numpy()
        # nn.Linear's weight is (out, in); glassnet's W is (in, out).
        return Dense(child.in_features, child.out_features, W=weight.T, b=bias, dtype=dtype)
    if isinstance(child, nn.LeakyReLU):
        return LeakyReLU(alpha=float(child.negative_slope))
    if isinstance(child, nn.ReLU):
        return ReLU()
    if isinstance(child, nn.Sigmoid):
        return Sigmoid()
    if isinstance(child, nn.Tanh):
        return Tanh()
    if isinstance(child, nn.Softmax):
        if child.dim not in (1, -1):
            raise InvalidInputError(
                f"module[{position}] is Softmax(dim={child.dim}); glassnet's softmax runs over the features, "
                "so use dim=1 or dim=-1"
            )
        return Softmax()
    if isinstance(child, nn.Identity):
        return Identity()
    if isinstance(child, nn.Dropout):
        return Dropout(rate=float(child.p))
    raise NotImplementedError(
        f"module[{position}] is a {type(child).__name__}, which has no glassnet layer; supported: Linear, ReLU, "
        "LeakyReLU, Sigmoid, Tanh, Softmax, Identity, Dropout"
    )
