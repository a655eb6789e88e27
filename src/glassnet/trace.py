"""The record of one training step: named quantities in the order the math happens.

A trace is plain data. The engine fills it when asked (``network.step(...,
trace=True)``) and renderers read it; nothing here computes a gradient.
Each :class:`Quantity` carries a symbol (``z1``, ``a1``, ``delta2``, ``dW2``,
numbered from the first Dense layer), a plain-English name, the formula as
text, the value and the symbols it was computed from.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from ._typing import FloatArray, JSONDict

PHASES = ("parameters", "forward", "loss", "backward", "update")

# The fields of a Quantity other than its value, in the order Trace.add reads them:
# (symbol, name, formula, phase, layer, inputs, operation, note).
QuantityTexts: TypeAlias = tuple[str, str, str, str, int, tuple[str, ...], str, str]


@dataclass(frozen=True)
class Quantity:
    """One number or array of a training step.

    Attributes
    ----------
    symbol : str
        Standard symbol, e.g. ``"delta2"``; unique within a trace.
    name : str
        Plain-English name, e.g. ``"output layer delta (dL/dz2)"``.
    formula : str
        How it is computed, in terms of other symbols, e.g. ``"a1ᵀ · delta2"``.
    value : numpy.ndarray
        A copy of the value, never a view of an engine buffer.
    phase : str
        One of ``"parameters"``, ``"forward"``, ``"loss"``, ``"backward"``,
        ``"update"``.
    layer : int
        Dense-layer number the quantity belongs to (0 for the input and loss).
    inputs : tuple of str
        Symbols of the quantities the formula reads.
    operation : str
        Machine-readable kind of computation (``"matmul_add"``, ``"activation"``,
        ``"hadamard"``, ...), used by renderers to substitute numbers.
    note : str
        Extra explanation, e.g. why the sigmoid derivative cancels.
    """

    symbol: str
    name: str
    formula: str
    value: FloatArray
    phase: str
    layer: int = 0
    inputs: tuple[str, ...] = ()
    operation: str = ""
    note: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    def to_dict(self) -> JSONDict:
        """Return the quantity as JSON-ready builtins (values as nested lists)."""
        return {
            "symbol": self.symbol,
            "name": self.name,
            "formula": self.formula,
            "shape": list(self.shape),
            "value": _to_builtin(self.value),
            "phase": self.phase,
            "layer": self.layer,
            "inputs": list(self.inputs),
            "operation": self.operation,
            "note": self.note,
        }


def _to_builtin(value: ArrayLike) -> Any:
    array = np.asarray(value)
    if array.ndim == 0:
        return array.item()
    return array.tolist()


@dataclass
class Trace:
    """All quantities of one step, plus what the step was configured with.

    Attributes
    ----------
    quantities : list of Quantity
        In the order the math happens.
    loss_name : str
        Name of the loss, e.g. ``"half-squared-error"``.
    reduction : str
        How the loss reduces over the batch: ``"mean"`` or ``"sum"``.
    fused : bool
        True when the output activation and the loss were differentiated
        together, so that ``delta = (y - t) / N`` at the output.
    batch_size : int
    step : int
        1-based number of the step within its run.
    parameters_before, parameters_after : dict of str to numpy.ndarray
        Parameters keyed by trace symbol (``W1``, ``b1``...), copied.
    optimizer : str
        Description of the optimizer, e.g. ``"SGD(learning_rate=0.1)"``.
    parameter_names : dict of str to str
        Plain-English name of each parameter symbol, e.g. ``{"W2": "output layer weights"}``.
    """

    quantities: list[Quantity] = field(default_factory=list)
    loss_name: str = ""
    reduction: str = "mean"
    fused: bool = False
    batch_size: int = 0
    step: int = 1
    parameters_before: dict[str, FloatArray] = field(default_factory=dict)
    parameters_after: dict[str, FloatArray] = field(default_factory=dict)
    optimizer: str = ""
    parameter_names: dict[str, str] = field(default_factory=dict)

    def record(self, symbol: str, name: str, formula: str, value: ArrayLike, phase: str, layer: int = 0,
               inputs: Iterable[str] = (), operation: str = "", note: str = "") -> Quantity:
        """Append a copy of ``value`` under ``symbol``; a symbol may appear once."""
        return self.add((symbol, name, formula, phase, layer, tuple(inputs), operation, note), value)

    def add(self, texts: QuantityTexts, value: ArrayLike) -> Quantity:
        """Append a copy of ``value`` with ``texts``, the other fields of :class:`Quantity` in a tuple.

        ``texts`` is ``(symbol, name, formula, phase, layer, inputs, operation,
        note)``. The engine builds these tuples once per network and batch size
        and reuses them at every traced step.
        """
        symbol = texts[0]
        quantities = self.quantities
        cached: tuple[list[Quantity], dict[str, int]] | None = self.__dict__.get("_index")
        if cached is not None and cached[0] is quantities and len(cached[1]) == len(quantities):
            index = cached[1]
        else:
            index = self._symbol_index()
        if symbol in index:
            raise ValueError(f"trace already has a quantity {symbol!r}; symbols must be unique")
        copy = value.copy() if type(value) is np.ndarray else np.array(value, copy=True)
        # A frozen dataclass's __init__ sets each field through object.__setattr__, which
        # costs more than the rest of a record. Filling __dict__ gives the same object.
        quantity = object.__new__(Quantity)
        fields = quantity.__dict__
        (fields["symbol"], fields["name"], fields["formula"], fields["phase"], fields["layer"], fields["inputs"],
         fields["operation"], fields["note"]) = texts
        fields["value"] = copy
        index[symbol] = len(quantities)
        quantities.append(quantity)
        return quantity

    def _symbol_index(self) -> dict[str, int]:
        """Return ``{symbol: position in quantities}``.

        The index spares each of a step's 30 or so records a scan of the list.
        It is rebuilt when ``quantities`` was replaced or grown without
        :meth:`record`.
        """
        cached: tuple[list[Quantity], dict[str, int]] | None = self.__dict__.get("_index")
        if cached is None or cached[0] is not self.quantities or len(cached[1]) != len(self.quantities):
            cached = (self.quantities, {q.symbol: i for i, q in enumerate(self.quantities)})
            self.__dict__["_index"] = cached
        return cached[1]

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._symbol_index()

    def __getitem__(self, symbol: str) -> Quantity:
        position = self._symbol_index().get(symbol)
        if position is not None:
            return self.quantities[position]
        known = ", ".join(q.symbol for q in self.quantities)
        raise KeyError(f"no quantity {symbol!r} in this trace; it has: {known}")

    def __iter__(self) -> Iterator[Quantity]:
        return iter(self.quantities)

    def __len__(self) -> int:
        return len(self.quantities)

    def value(self, symbol: str) -> FloatArray:
        """Return the recorded value of ``symbol``."""
        return self[symbol].value

    def symbols(self) -> list[str]:
        return [q.symbol for q in self.quantities]

    def select(self, phase: str | None = None, layer: int | None = None) -> list[Quantity]:
        """Return the quantities of one phase and/or one Dense layer."""
        chosen = []
        for quantity in self.quantities:
            if phase is not None and quantity.phase != phase:
                continue
            if layer is not None and quantity.layer != layer:
                continue
            chosen.append(quantity)
        return chosen

    @property
    def loss(self) -> float:
        return float(self.value("L"))

    def _repr_html_(self) -> str:
        from .render.html import trace_html

        return trace_html(self)

    def to_dict(self) -> JSONDict:
        """Return the trace as JSON-ready builtins."""
        return {
            "quantities": [q.to_dict() for q in self.quantities],
            "parameters_before": {k: _to_builtin(v) for k, v in self.parameters_before.items()},
            "parameters_after": {k: _to_builtin(v) for k, v in self.parameters_after.items()},
            "loss": self.loss,
            "loss_name": self.loss_name,
            "reduction": self.reduction,
            "fused": self.fused,
            "batch_size": self.batch_size,
            "step": self.step,
            "optimizer": self.optimizer,
        }
