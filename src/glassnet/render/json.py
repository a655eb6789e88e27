"""JSON rendering of traces: the trace's own data plus each worked step."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from .worked import worked_steps

if TYPE_CHECKING:
    from ..trace import Trace


def trace_document(
    trace: Trace,
    precision: int = 8,
    input_precision: int = 4,
    phases: Collection[str] | None = None,
    layer: int | None = None,
) -> dict[str, Any]:
    """Return a trace as JSON-ready builtins with a ``worked`` entry per quantity.

    Values keep full float64 precision; ``substituted`` and ``result`` are the
    texts the other renderers show.
    """
    document: dict[str, Any] = trace.to_dict()
    document["worked"] = [
        {
            "symbol": step.symbol,
            "phase": step.phase,
            "layer": step.layer,
            "formula": step.formula,
            "substituted": None if step.given else step.substituted(input_precision),
            "result": step.result(precision),
            "reduction": step.reduction,
            "highlight": step.highlight,
        }
        for step in worked_steps(trace, phases, layer)
    ]
    return document


def render_json(
    traces: Trace | list[Trace] | tuple[Trace, ...],
    precision: int = 8,
    input_precision: int = 4,
    phases: Collection[str] | None = None,
    layer: int | None = None,
) -> str:
    """Return JSON text for one trace, or ``{"steps": [...]}`` for several."""
    if not isinstance(traces, (list, tuple)):
        traces = [traces]
    documents = [trace_document(t, precision, input_precision, phases, layer) for t in traces]
    output = documents[0] if len(documents) == 1 else {"steps": documents}
    return json.dumps(output, indent=2, ensure_ascii=False) + "\n"
