"""LaTeX rendering of traces: ``align*`` equations a teacher can paste into a worksheet.

The output needs ``amsmath`` (for ``align*`` and ``bmatrix``). Each quantity
is written as its symbol, the formula, the formula with the numbers
substituted, and the result, one line each.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, SupportsFloat

import numpy as np
from numpy.typing import ArrayLike

from .text import PHASE_TITLES, capitalize, format_number
from .worked import WorkedStep, token_value, too_large, worked_steps

if TYPE_CHECKING:
    from ..trace import Trace

FUNCTIONS = {
    "sigmoid": r"\sigma", "ReLU": r"\operatorname{ReLU}", "LeakyReLU": r"\operatorname{LeakyReLU}",
    "tanh": r"\tanh", "softmax": r"\operatorname{softmax}", "identity": r"\operatorname{id}",
}
TEXT_REPLACEMENTS = [
    ("·", r" \cdot "), ("⊙", r" \odot "), ("½", r"\tfrac{1}{2}"), ("Σ_batch", r"\sum_{\text{batch}}"),
    ("Σ", r"\sum "), ("²", "^{2}"), ("ᵀ", r"^{\top}"), ("√", "sqrt"), ("β1", r"\beta_1"), ("β2", r"\beta_2"),
    ("μ", r"\mu "), ("α", r"\alpha "), (" if ", r"\text{ if }"), (" else ", r"\text{ else }"),
    ("log", r"\log "), ("sqrt", r"\operatorname{sqrt}"),
]


def latex_symbol(symbol: str) -> str:
    """Return the LaTeX for a trace symbol, e.g. ``delta2`` -> ``\\delta_{2}``."""
    match = re.fullmatch(r"(z|a|W|b|X|delta|mask)(\d*)(_new|_dropped)?", symbol)
    if match:
        base, number, suffix = match.groups()
        base = {"delta": r"\delta", "mask": "m"}.get(base, base)
        text = f"{base}_{{{number}}}" if number else base
        if suffix == "_new":
            text += r"^{\text{new}}"
        return text
    match = re.fullmatch(r"d([Wb])(\d+)", symbol)
    if match:
        return rf"\frac{{\partial L}}{{\partial {match.group(1)}_{{{match.group(2)}}}}}"
    match = re.fullmatch(r"dL/d(.+)", symbol)
    if match:
        return rf"\frac{{\partial L}}{{\partial {latex_symbol(match.group(1))}}}"
    match = re.fullmatch(r"(\w+)'\((\w+)\)", symbol)
    if match:
        function = FUNCTIONS.get(match.group(1), rf"\operatorname{{{match.group(1)}}}")
        return f"{function}'({latex_symbol(match.group(2))})"
    if symbol == "lr":
        return r"\eta"
    if symbol in ("y", "t", "L", "N"):
        return symbol
    escaped = symbol.replace("_", r"\_")
    return rf"\mathrm{{{escaped}}}"


def latex_number(x: SupportsFloat, precision: int) -> str:
    return format_number(x, precision)


def latex_value(value: ArrayLike, precision: int = 8) -> str:
    """Return a scalar as a number and an array as a ``bmatrix`` (a vector as one row)."""
    array = np.asarray(value)
    if array.ndim == 0:
        return latex_number(array, precision)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    rows = [" & ".join(latex_number(x, precision) for x in row) for row in array]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def latex_text(text: str) -> str:
    for plain, latex in TEXT_REPLACEMENTS:
        text = text.replace(plain, latex)
    for name, latex in FUNCTIONS.items():
        text = re.sub(rf"\b{name}\b", lambda _match: latex, text)
    return text


def latex_formula(step: WorkedStep, numbers: bool, precision: int = 4) -> str:
    """Return the formula of a worked step in LaTeX, with symbols or with their numbers."""
    parts: list[str] = []
    for token in step.tokens:
        if token.kind == "text":
            parts.append(latex_text(token.text))
            continue
        value = token_value(token)
        if numbers and not too_large(value):
            parts.append(latex_value(value, precision))
        else:
            parts.append(latex_symbol(token.text) + (r"^{\top}" if token.transposed else ""))
    return "".join(parts)


def render_latex(
    traces: Trace | list[Trace] | tuple[Trace, ...],
    precision: int = 8,
    phases: Collection[str] | None = None,
    layer: int | None = None,
    input_precision: int = 4,
    standalone: bool = False,
) -> str:
    """Return LaTeX for one trace or a list of traces.

    ``standalone`` wraps the equations in a complete ``article`` document.
    """
    if not isinstance(traces, (list, tuple)):
        traces = [traces]
    lines: list[str] = []
    if standalone:
        lines += [r"\documentclass{article}", r"\usepackage{amsmath}", r"\usepackage[margin=2cm]{geometry}",
                  r"\begin{document}", ""]
    for trace in traces:
        lines += [rf"\section*{{Step {trace.step}}}", ""]
        current: str | None = None
        for step in worked_steps(trace, phases, layer):
            if step.phase != current:
                current = step.phase
                lines += [rf"\subsection*{{{PHASE_TITLES.get(current, current)}}}", ""]
            name = capitalize(step.name).replace("_", r"\_").replace("&", r"\&")
            lines.append(rf"\paragraph{{{name}}}")
            lines.append(r"\begin{align*}")
            left = latex_symbol(step.symbol)
            result = latex_value(step.value, precision)
            if step.given:
                lines.append(f"{left} &= {result}")
            else:
                lines.append(f"{left} &= {latex_formula(step, False)} \\\\")
                substituted = latex_formula(step, True, input_precision)
                if substituted != latex_formula(step, False):
                    lines.append(f"  &= {substituted} \\\\")
                lines.append(f"  &= {result}")
            lines.append(r"\end{align*}")
            if step.reduction:
                lines.append(capitalize(step.reduction).replace("×", r"$\times$") + ".")
            lines.append("")
    if standalone:
        lines.append(r"\end{document}")
    return "\n".join(lines).rstrip() + "\n"
