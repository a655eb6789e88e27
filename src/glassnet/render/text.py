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


def render_trace(trace, precision=8, phases=None, layer=None):
    """Return the trace as indented text: a title per phase, two lines per quantity."""
    lines = []
    current = None
    for quantity in trace:
        if phases is not None and quantity.phase not in phases:
            continue
        if layer is not None and quantity.layer not in (layer, 0):
            continue
        if quantity.phase != current:
            current = quantity.phase
            lines.append("")
            lines.append(PHASE_TITLES.get(current, current))
        lines.append(f"  {capitalize(quantity.name)}")
        value = format_value(quantity.value, precision)
        if quantity.formula == "given":
            lines.append(f"    {quantity.symbol} = {value}")
        else:
            lines.append(f"    {quantity.symbol} = {quantity.formula} = {value}")
        if quantity.note:
            lines.append(f"    ({quantity.note})")
    return "\n".join(lines)
