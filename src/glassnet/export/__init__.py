"""Export glassnet models to ONNX and PyTorch, and import PyTorch modules.

The functions here import ``onnx`` or ``torch`` only when called, so
``import glassnet.export`` stays fast and works without either installed.

* :func:`to_onnx` writes an inference graph (MatMul, Add and activation
  nodes) that onnxruntime can run, with any stored standardisation as
  Sub/Div nodes and the label names in the graph and its metadata.
* :func:`to_torch` returns a ``torch.nn.Sequential`` whose ``state_dict``
  contains the same parameters (``nn.Linear.weight`` is glassnet's ``W``
  transposed), to continue training with PyTorch's tools.
* :func:`from_torch` turns such a ``torch.nn.Sequential`` back into a glassnet
  :class:`~glassnet.network.Sequential`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..network import Sequential

__all__ = ["from_torch", "to_onnx", "to_torch"]


def to_onnx(model: Any, path: Any = None, *, opset: int = 17) -> Any:
    """Convert ``model`` to an ONNX ``ModelProto`` and, when ``path`` is given, write it atomically.

    See :func:`glassnet.export.onnx.to_onnx`.
    """
    from .onnx import to_onnx as convert

    return convert(model, path, opset=opset)


def to_torch(model: Any) -> Any:
    """Return a ``torch.nn.Sequential`` with the network's layers and parameters.

    See :func:`glassnet.export.torch.to_torch`.
    """
    from .torch import to_torch as convert

    return convert(model)


def from_torch(module: Any, dtype: str | None = None) -> Sequential:
    """Return a glassnet network built from a ``torch.nn.Sequential``.

    See :func:`glassnet.export.torch.from_torch`.
    """
    from .torch import from_torch as convert

    return convert(module, dtype=dtype)
