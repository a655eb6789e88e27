"""Network diagrams as SVG (and PNG through matplotlib).

``trace_svg(trace, phase)`` draws the network of a trace with the numbers of
one phase: weights on the edges and z, a on the units (forward), delta on the
units and dW on the edges (backward), new weights (update). Every neuron,
edge and label has a stable id (see :mod:`glassnet.render.diagram`), which the
web page uses to highlight what each quantity involves.

PNG output draws the same layout with matplotlib (the ``plot`` extra), so
no SVG rasteriser is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from .diagram import (PHASE_LABELS, Layout, diagram_labels, layout, structure_from_network,
                      structure_from_trace)
from .._typing import StrPath
from ..serialization import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from ..network import Sequential
    from ..trace import Trace

STYLE = """
.gn-diagram { font-family: 'DejaVu Sans', Verdana, sans-serif; }
.gn-diagram .edge { stroke: #9aa5b1; stroke-width: 1.4; }
.gn-diagram .neuron { fill: #ffffff; stroke: #334e68; stroke-width: 2; }
.gn-diagram .layerbox { fill: #ffffff; stroke: #334e68; stroke-width: 2; }
.gn-diagram .caption { font-size: 13px; fill: #243b53; font-weight: bold; text-anchor: middle; }
.gn-diagram .unit-label { font-size: 11px; fill: #102a43; text-anchor: middle; }
.gn-diagram .edge-label { font-size: 10.5px; fill: #7c2d12; text-anchor: middle;
  paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }
.gn-diagram .title { font-size: 12px; fill: #486581; }
.gn-diagram .hl.edge { stroke: #d9480f; stroke-width: 3.2; }
.gn-diagram .hl.neuron, .gn-diagram .hl.layerbox { fill: #ffe8cc; stroke: #d9480f; stroke-width: 3.5; }
"""


def layout_svg(
    plan: Layout,
    labels: dict[str, list[str]] | None = None,
    highlight: Iterable[str] = (),
    title: str = "",
    standalone: bool = True,
    prefix: str = "",
) -> str:
    """Return the SVG text of a layout, with ``labels`` {id: [lines]} and highlighted ids.

    ``prefix`` is put before every element id, so that several diagrams can share one page.
    """
    labels = labels or {}
    highlighted = set(highlight)
    width, height = plan.width, plan.height + 20
    parts: list[str] = []
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    parts.append(f'<svg{namespace} class="gn-diagram" width="{width:.0f}" height="{height:.0f}" '
                 f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">')
    parts.append(f"<style>{STYLE}</style>")
    parts.append(f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')
    if title:
        parts.append(f'<text class="title" id="{prefix}diagram-title" x="10" y="{height - 8:.0f}">{escape(title)}</text>')
    for edge in plan.edges:
        css = "edge hl" if edge.id in highlighted else "edge"
        marker = ""
        parts.append(f'<line id="{prefix}{edge.id}" class="{css}" x1="{edge.x1:.1f}" y1="{edge.y1:.1f}" '
                     f'x2="{edge.x2:.1f}" y2="{edge.y2:.1f}"{marker}/>')
    for edge in plan.edges:
        text = " ".join(labels.get(edge.id, []))
        parts.append(f'<text id="{prefix}{edge.id}-label" class="edge-label" x="{edge.label_x:.1f}" '
                     f'y="{edge.label_y - 3:.1f}">{escape(text)}</text>')
    for node in plan.nodes:
        css = "hl" if node.id in highlighted else ""
        if node.box:
            w, h = node.box
            parts.append(f'<rect id="{prefix}{node.id}" class="layerbox {css}" x="{node.x - w / 2:.1f}" '
                         f'y="{node.y - h / 2:.1f}" width="{w}" height="{h}" rx="10"><title>{escape(node.title)}'
                         f'</title></rect>')
            parts.append(f'<text class="unit-label" x="{node.x:.1f}" y="{node.y + 4:.1f}">'
                         f'{plan.structure.sizes[node.layer]} units</text>')
            label_y = node.y + h / 2 + 14
        else:
            parts.append(f'<circle id="{prefix}{node.id}" class="neuron {css}" cx="{node.x:.1f}" cy="{node.y:.1f}" '
                         f'r="22"><title>{escape(node.title)}</title></circle>')
            parts.append(f'<text class="unit-label" x="{node.x:.1f}" y="{node.y + 4:.1f}">{node.index + 1}</text>')
            label_y = node.y + 35
        lines = labels.get(node.id, [])
        spans = "".join(f'<tspan x="{node.x:.1f}" dy="{0 if number == 0 else 13}">{escape(line)}</tspan>'
                        for number, line in enumerate(lines[:3]))
        parts.append(f'<text id="{prefix}{node.id}-label" class="unit-label" x="{node.x:.1f}" '
                     f'y="{label_y:.1f}">{spans}</text>')
    for x, y, text in plan.captions:
        parts.append(f'<text class="caption" x="{x:.1f}" y="{y:.1f}">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def trace_svg(
    trace: Trace,
    phase: str = "forward",
    highlight: Iterable[str] = (),
    precision: int = 3,
    standalone: bool = True,
    prefix: str = "",
) -> str:
    """Return an SVG diagram of the trace's network annotated with one phase's numbers.

    Parameters
    ----------
    trace : Trace
    phase : str
        ``parameters``, ``forward``, ``loss``, ``backward`` or ``update``.
    highlight : iterable of str
        Ids of neurons and edges to draw highlighted.
    precision : int
        Significant digits of the numbers on the diagram.
    """
    _check_phase(phase)
    structure = structure_from_trace(trace)
    plan = layout(structure)
    labels = diagram_labels(trace, phase, precision, structure)
    batch = f" (first of {trace.batch_size} samples)" if trace.batch_size > 1 else ""
    title = f"step {trace.step}, {PHASE_LABELS[phase]}{batch}"
    return layout_svg(plan, labels, highlight, title, standalone, prefix)


def network_svg(network: Sequential, standalone: bool = True, prefix: str = "") -> str:
    """Return an SVG diagram of a Sequential network with its current weights and biases."""
    structure = structure_from_network(network)
    plan = layout(structure)
    labels: dict[str, list[str]] = {}
    if structure.detailed:
        for dense in network.dense_layers:
            k = dense.number
            W = dense.params["W"]
            for i in range(W.shape[0]):
                for j in range(W.shape[1]):
                    labels[f"e-{k}-{i}-{j}"] = [f"{float(W[i, j]):.3g}"]
            for j, value in enumerate(dense.params["b"]):
                labels[f"n-{k}-{j}"] = [f"b={float(value):.3g}"]
    return layout_svg(plan, labels, (), "weights on the edges, biases under the units", standalone, prefix)


def _check_phase(phase: str) -> None:
    from ..errors import InvalidInputError

    if phase not in PHASE_LABELS:
        raise InvalidInputError(f"phase={phase!r} is not known; use one of: {', '.join(PHASE_LABELS)}")


def write_svg(
    trace: Trace, path: StrPath, phase: str = "forward", precision: int = 3
) -> None:
    """Write :func:`trace_svg` to ``path`` (atomically)."""
    atomic_write_text(path, trace_svg(trace, phase, precision=precision))


def write_png(
    trace: Trace,
    path: StrPath,
    phase: str = "forward",
    precision: int = 3,
    dpi: int = 150,
) -> None:
    """Draw the diagram of :func:`trace_svg` with matplotlib and save it as PNG."""
    import io

    from ..errors import require

    _check_phase(phase)
    matplotlib = require("matplotlib", "plot", "writing a PNG diagram")
    matplotlib.use("Agg")
    pyplot = require("matplotlib.pyplot", "plot", "writing a PNG diagram")
    from matplotlib.patches import Circle, FancyBboxPatch

    structure = structure_from_trace(trace)
    plan = layout(structure)
    labels = diagram_labels(trace, phase, precision, structure)
    height = plan.height + 20
    figure = pyplot.figure(figsize=(plan.width / 100, height / 100), dpi=dpi)
    axes = figure.add_axes([0, 0, 1, 1])
    axes.set_xlim(0, plan.width)
    axes.set_ylim(height, 0)
    axes.axis("off")
    for edge in plan.edges:
        axes.plot([edge.x1, edge.x2], [edge.y1, edge.y2], color="#9aa5b1", linewidth=1.2, zorder=1)
        text = " ".join(labels.get(edge.id, []))
        if text:
            axes.text(edge.label_x, edge.label_y - 3, text, fontsize=7, color="#7c2d12", ha="center",
                      va="bottom", zorder=3, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    for node in plan.nodes:
        if node.box:
            w, h = node.box
            axes.add_patch(FancyBboxPatch((node.x - w / 2, node.y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=10",
                                          facecolor="white", edgecolor="#334e68", linewidth=1.5, zorder=2))
            label_y = node.y + h / 2 + 6
        else:
            axes.add_patch(Circle((node.x, node.y), 22, facecolor="white", edgecolor="#334e68", linewidth=1.5,
                                  zorder=2))
            axes.text(node.x, node.y, str(node.index + 1), fontsize=8, ha="center", va="center", zorder=3)
            label_y = node.y + 26
        lines = labels.get(node.id, [])
        if lines:
            axes.text(node.x, label_y, "\n".join(lines[:3]), fontsize=7, ha="center", va="top", color="#102a43",
                      zorder=3)
    for x, y, text in plan.captions:
        axes.text(x, y, text, fontsize=8.5, ha="center", va="center", fontweight="bold", color="#243b53")
    batch = f" (first of {trace.batch_size} samples)" if trace.batch_size > 1 else ""
    axes.text(10, height - 8, f"step {trace.step}, {PHASE_LABELS[phase]}{batch}", fontsize=7.5, color="#486581")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    pyplot.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
