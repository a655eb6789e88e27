"""Terminal rendering with rich tables (the ``rich`` extra), falling back to plain text."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from .text import PHASE_TITLES, capitalize, render_trace
from .worked import worked_steps

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ..trace import Trace


def rich_available() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def render_terminal(
    traces: Trace | list[Trace] | tuple[Trace, ...],
    precision: int = 8,
    phases: Collection[str] | None = None,
    layer: int | None = None,
    input_precision: int = 4,
    console: Console | None = None,
    width: int | None = None,
) -> None:
    """Print traces as one rich table per phase; without rich, print the plain text form.

    Parameters
    ----------
    console : rich.console.Console, optional
        Where to print; by default a new console on standard output.
    """
    if not isinstance(traces, (list, tuple)):
        traces = [traces]
    if not rich_available():
        for trace in traces:
            print(f"=== Step {trace.step} ===")
            print(render_trace(trace, precision, phases, layer, input_precision))
        return
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=width)
    for trace in traces:
        console.rule(f"Step {trace.step}: {trace.loss_name} ({trace.reduction}), {trace.optimizer}")
        current: str | None = None
        table: Table | None = None
        for step in worked_steps(trace, phases, layer):
            if step.phase != current or table is None:
                if table is not None:
                    console.print(table)
                current = step.phase
                table = Table(title=PHASE_TITLES.get(current, current), show_lines=True, expand=False)
                table.add_column("quantity", style="bold")
                table.add_column("formula")
                table.add_column("with numbers")
                table.add_column("result", style="cyan")
            numbers = "" if step.given else step.substituted(input_precision)
            name = f"{step.symbol}\n[dim]{capitalize(step.name)}[/dim]"
            formula = "given" if step.given else step.formula
            if step.reduction:
                formula += f"\n[dim]{step.reduction}[/dim]"
            table.add_row(name, _escape(formula), _escape(numbers), step.result(precision))
        if table is not None:
            console.print(table)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text).replace("\\[dim]", "[dim]").replace("\\[/dim]", "[/dim]")
