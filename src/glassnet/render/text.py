"""Plain-text rendering of traces, for terminals and logs."""

import numpy as np

PHASE_TITLES = {
    "parameters": "Parameters",
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "update": "Update",
}


def format_number(x, precision=8):
    """Format one number with ``precision`` significant digits (``-0`` shown as ``0``)."""
    value = float(x)
    if value == 0.0:
        return "0"
    return f"{value:.{precision}g}"


def format_value(value, precision=8):
    """Format a scalar or array as nested lists, e.g. ``[[0.23, 0.36]]``."""
    array = np.asarray(value)
    if array.ndim == 0:
        return format_number(array, precision)
    if array.size == 0:
        return "[]"
    return "[" + ", ".join(format_value(row, precision) for row in array) + "]"


def capitalize(text):
    return text[:1].upper() + text[1:]


def render_trace(trace, precision=8, phases=None, layer=None, input_precision=4):
    """Return the trace as indented text: a title per phase, then per quantity its name and
    ``symbol = formula = formula with numbers = result``.

    Results are written with ``precision`` significant digits, the numbers
    substituted into formulas with ``input_precision``.
    """
    from .worked import worked_steps

    lines = []
    current = None
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
