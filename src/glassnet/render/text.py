"""Plain-text rendering of traces, for terminals and logs."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, SupportsFloat

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from ..trace import Trace

PHASE_TITLES = {
    "parameters": "Parameters",
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "update": "Update",
}


def format_number(x: SupportsFloat, precision: int = 8) -> str:
    """Format one number with ``precision`` significant digits (``-0`` shown as ``0``)."""
    value = float(x)
    if value == 0.0:
        return "0"
    return f"{value:.{precision}g}"


def format_value(value: ArrayLike, precision: int = 8) -> str:
    """Format a scalar or array as nested lists, e.g. ``[[0.23, 0.36]]``."""
    array = np.asarray(value)
    if array.ndim == 0:
        return format_number(array, precision)
    if array.size == 0:
        return "[]"
    return "[" + ", ".join(format_value(row, precision) for row in array) + "]"


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def render_trace(
    trace: Trace,
    precision: int = 8,
    phases: Collection[str] | None = None,
    layer: int | None = None,
    input_precision: int = 4,
) -> str:
    """Return the trace as indented text: a title per phase, then per quantity its name and
    ``symbol = formula = formula with numbers = result``.

    Results are written with ``precision`` significant digits, the numbers
    substituted into formulas with ``input_precision``.
    """
    from .worked import worked_steps

    lines: list[str] = []
    current: str | None = None
    for step in worked_steps(trace, phases, layer):
        if step.phase != current:
            current = step.phase
            lines.append("")
            lines.append(PHASE_TITLES.get(current, current))
        lines.append(f"  {capitalize(step.name)}")
        lines.append(f"    {step.line(precision, input_precision)}")
        if step.reduction:
            lines.append(f"    ({step.reduction})")
        if step.note and not step.note.startswith(("N = ", "lr = ")):
            lines.append(f"    ({step.note})")
    return "\n".join(lines)
