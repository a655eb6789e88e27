"""Worked-solution steps: each traced quantity as formula, numbers substituted, result.

This module turns a :class:`~glassnet.trace.Trace` into :class:`WorkedStep`
records that every renderer (text, Markdown, LaTeX, JSON, HTML) formats in its
own way. It only reads the trace: the numbers put into a formula are the
recorded values of the quantity's ``inputs``, never recomputed.

A formula such as ``a1ᵀ · delta2`` is split into tokens: symbols of the trace
(``a1``, ``delta2``), the batch divisor ``N`` and the learning rate ``lr``,
and the text between them. Renderers map each token to their own notation.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .text import format_value

if TYPE_CHECKING:
    from ..trace import Quantity, Trace

# Largest array (in elements) written out inside a substituted formula; a
# bigger one is shown by its symbol and shape.
MAX_SUBSTITUTED_ELEMENTS = 16
TRANSPOSE = "ᵀ"


@dataclass
class Token:
    """One piece of a formula: text, or a symbol with the value it stands for."""

    kind: str  # "text" or "symbol"
    text: str
    value: ArrayLike | None = None
    transposed: bool = False


@dataclass
class WorkedStep:
    """A quantity of the trace ready to be written as one line of a worked solution."""

    symbol: str
    name: str
    phase: str
    layer: int
    formula: str
    tokens: list[Token]
    value: NDArray[Any]
    note: str = ""
    reduction: str = ""
    inputs: tuple[str, ...] = ()
    operation: str = ""
    given: bool = False
    highlight: list[str] = field(default_factory=list)

    def substituted(self, precision: int = 4) -> str:
        """Return the formula with every symbol replaced by its value, as plain text."""
        return tokens_to_text(self.tokens, precision)

    def result(self, precision: int = 8) -> str:
        return format_value(self.value, precision)

    def line(self, precision: int = 8, input_precision: int = 4) -> str:
        """Return ``symbol = formula = numbers = result`` (or ``symbol = value`` when given)."""
        if self.given:
            return f"{self.symbol} = {self.result(precision)}"
        parts = [self.symbol, self.formula]
        numbers = self.substituted(input_precision)
        if numbers != self.formula:
            parts.append(numbers)
        parts.append(self.result(precision))
        return " = ".join(parts)


def _note_number(note: str | None, name: str) -> int | float | None:
    match = re.search(rf"\b{re.escape(name)} = ([0-9.eE+-]+)", note or "")
    if match is None:
        return None
    text = match.group(1).rstrip(".")
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "e" not in text.lower() else number


def _values_before(trace: Trace) -> dict[str, NDArray[Any]]:
    """Return each symbol's value as formulas read it (parameters before the update)."""
    values: dict[str, NDArray[Any]] = {}
    for quantity in trace:
        values.setdefault(quantity.symbol, quantity.value)
    return values


def tokenize(formula: str, known: Mapping[str, ArrayLike]) -> list[Token]:
    """Split ``formula`` into tokens, marking each occurrence of a symbol of ``known``.

    A symbol matches only as a whole word: ``y`` inside ``dL/dy`` does not.
    A following ``ᵀ`` marks the symbol as transposed.
    """
    if not known:
        return [Token("text", formula)]
    names = sorted(known, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![A-Za-z0-9_/'])(" + "|".join(re.escape(name) for name in names) + r")(?![A-Za-z0-9_])(ᵀ?)"
    )
    tokens: list[Token] = []
    position = 0
    for match in pattern.finditer(formula):
        if match.start() > position:
            tokens.append(Token("text", formula[position:match.start()]))
        name = match.group(1)
        tokens.append(Token("symbol", name, known[name], transposed=bool(match.group(2))))
        position = match.end()
    if position < len(formula):
        tokens.append(Token("text", formula[position:]))
    return tokens


def token_value(token: Token) -> NDArray[Any]:
    value = np.asarray(token.value)
    if token.transposed and value.ndim == 2:
        value = value.T
    return value


def too_large(value: ArrayLike) -> bool:
    return np.asarray(value).size > MAX_SUBSTITUTED_ELEMENTS


def tokens_to_text(tokens: list[Token], precision: int = 4) -> str:
    """Return the tokens as plain text with numbers in place of symbols."""
    parts: list[str] = []
    for token in tokens:
        if token.kind == "text":
            parts.append(token.text)
            continue
        value = token_value(token)
        if too_large(value):
            shape = "×".join(str(n) for n in value.shape)
            parts.append(f"{token.text}{TRANSPOSE if token.transposed else ''}({shape})")
        else:
            parts.append(format_value(value, precision))
    return "".join(parts)


def describe_reduction(trace: Trace, quantity: Quantity) -> str:
    """Return how the batch reduction enters ``quantity`` (e.g. ``mean over N = 4 samples``), or ''."""
    divisor = _note_number(quantity.note, "N")
    if quantity.operation == "batch_sum" or quantity.operation == "outer":
        if trace.batch_size <= 1:
            return ""
        if trace.reduction == "sum":
            return f"summed over the batch of {trace.batch_size} samples"
        return f"summed over the batch of {trace.batch_size} samples (each delta row already carries the 1/N of the mean)"
    if divisor is None:
        return ""
    if trace.reduction == "sum":
        return "sum over the batch and the outputs (N = 1, no division)"
    outputs = 1
    if "y" in trace:
        outputs = trace.value("y").shape[-1]
    if divisor == trace.batch_size:
        return f"mean over N = {divisor} sample{'s' if divisor > 1 else ''}"
    return f"mean over N = {divisor} terms ({trace.batch_size} samples × {outputs} outputs)"


def worked_steps(
    trace: Trace, phases: Collection[str] | None = None, layer: int | None = None
) -> list[WorkedStep]:
    """Return the :class:`WorkedStep` of every quantity, in trace order.

    Parameters
    ----------
    trace : Trace
    phases : iterable of str, optional
        Keep only these phases (``forward``, ``loss``, ``backward``, ``update``, ``parameters``).
    layer : int, optional
        Keep only quantities of this Dense layer (and the layer-0 input and loss).
    """
    from .diagram import highlight_ids

    values = _values_before(trace)
    steps: list[WorkedStep] = []
    for quantity in trace:
        if phases is not None and quantity.phase not in phases:
            continue
        if layer is not None and quantity.layer not in (layer, 0):
            continue
        known: dict[str, ArrayLike] = {
            symbol: values[symbol] for symbol in quantity.inputs if symbol in values
        }
        divisor = _note_number(quantity.note, "N")
        if divisor is not None:
            known["N"] = divisor
        learning_rate = _note_number(quantity.note, "lr")
        if learning_rate is not None:
            known["lr"] = learning_rate
        given = quantity.formula == "given"
        tokens = [] if given else tokenize(quantity.formula, known)
        steps.append(WorkedStep(
            symbol=quantity.symbol,
            name=quantity.name,
            phase=quantity.phase,
            layer=quantity.layer,
            formula=quantity.formula,
            tokens=tokens,
            value=quantity.value,
            note=quantity.note,
            reduction=describe_reduction(trace, quantity),
            inputs=quantity.inputs,
            operation=quantity.operation,
            given=given,
            highlight=highlight_ids(trace, quantity),
        ))
    return steps
