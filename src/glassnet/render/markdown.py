"""Markdown rendering of traces: a worked solution, one block per quantity."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from .text import PHASE_TITLES, capitalize, format_value
from .worked import WorkedStep, worked_steps

if TYPE_CHECKING:
    from ..trace import Trace


def render_markdown(
    traces: Trace | list[Trace] | tuple[Trace, ...],
    precision: int = 8,
    phases: Collection[str] | None = None,
    layer: int | None = None,
    input_precision: int = 4,
    title: str | None = None,
) -> str:
    """Return Markdown for one trace or a list of traces.

    Each quantity gets its name in bold and a code block with the formula,
    the formula with numbers substituted, and the result.
    """
    if not isinstance(traces, (list, tuple)):
        traces = [traces]
    lines: list[str] = []
    if title:
        lines += [f"# {title}", ""]
    for trace in traces:
        lines += [f"## Step {trace.step}", ""]
        lines.append(f"Loss {trace.loss_name}, {trace.reduction} over a batch of {trace.batch_size}; "
                     f"optimizer {trace.optimizer}.")
        if trace.fused:
            lines.append("The output activation is differentiated together with the loss, so delta = (y - t) / N.")
        lines.append("")
        current: str | None = None
        for step in worked_steps(trace, phases, layer):
            if step.phase != current:
                current = step.phase
                lines += [f"### {PHASE_TITLES.get(current, current)}", ""]
            lines.append(f"**{capitalize(step.name)}** (`{step.symbol}`)")
            lines.append("")
            lines.append("```text")
            if step.given:
                lines.append(f"{step.symbol} = {format_value(step.value, precision)}")
            else:
                lines.append(f"{step.symbol} = {step.formula}")
                numbers = step.substituted(input_precision)
                pad = " " * len(step.symbol)
                if numbers != step.formula:
                    lines.append(f"{pad} = {numbers}")
                lines.append(f"{pad} = {step.result(precision)}")
            lines.append("```")
            extra = [text for text in (step.reduction, _note(step)) if text]
            if extra:
                lines.append("")
                lines.append("; ".join(capitalize(text) for text in extra) + ".")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _note(step: WorkedStep) -> str:
    if not step.note or step.note.startswith(("N = ", "lr = ")):
        return ""
    return step.note
