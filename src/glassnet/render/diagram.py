"""Layout of a network diagram: neuron and edge positions, ids, labels and highlights.

The layout is plain data shared by the SVG writer, the PNG writer and the web
page. Networks whose widest layer has at most ``MAX_NEURONS`` units are drawn
neuron by neuron, with ids ``n-L-i`` for unit i of layer L and ``e-K-i-j``
for the weight ``W_K[i, j]``. Wider networks are drawn as one box per layer
(``n-L``) and one arrow per Dense layer (``e-K``). Layer 0 is the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .text import format_number

if TYPE_CHECKING:
    from ..network import Sequential
    from ..trace import Quantity, Trace

MAX_NEURONS = 8
LAYER_GAP = 210
UNIT_GAP = 92
RADIUS = 22
MARGIN_X = 90
MARGIN_TOP = 56
MARGIN_BOTTOM = 48

ACTIVATION_NAMES = {
    "relu": "ReLU", "leaky_relu": "LeakyReLU", "sigmoid": "sigmoid", "tanh": "tanh",
    "softmax": "softmax", "identity": "identity",
}


@dataclass
class Structure:
    """Widths and activation names of a network, read from a trace or a Sequential."""

    sizes: list[int]
    activations: list[str]

    @property
    def detailed(self) -> bool:
        return max(self.sizes) <= MAX_NEURONS


@dataclass
class Node:
    id: str
    x: float
    y: float
    layer: int
    index: int
    title: str
    box: tuple[float, float] | tuple[()] = ()  # (width, height) for a layer-level box


@dataclass
class Edge:
    id: str
    x1: float
    y1: float
    x2: float
    y2: float
    layer: int
    label_x: float
    label_y: float


@dataclass
class Layout:
    width: float
    height: float
    structure: Structure
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    captions: list[tuple[float, float, str]] = field(default_factory=list)  # (x, y, text)


def structure_from_trace(trace: Trace) -> Structure:
    """Return the layer widths and activation names stated by a trace's parameters."""
    sizes: list[int] = []
    activations: list[str] = []
    k = 1
    while f"W{k}" in trace.parameters_before:
        W = trace.parameters_before[f"W{k}"]
        if k == 1:
            sizes.append(W.shape[0])
        sizes.append(W.shape[1])
        kind = "identity"
        for quantity in trace.select(phase="forward", layer=k):
            if quantity.operation.startswith("activation:"):
                kind = quantity.operation.split(":", 1)[1]
        activations.append(ACTIVATION_NAMES.get(kind, kind))
        k += 1
    return Structure(sizes, activations)


def structure_from_network(network: Sequential) -> Structure:
    """Return the layer widths and activation names of a Sequential network."""
    network._ensure_named()  # another network may have renumbered shared layers since this one used them
    sizes = [network.dense_layers[0].in_features]
    activations: list[str] = []
    for dense in network.dense_layers:
        sizes.append(dense.out_features)
        kind = "identity"
        for layer in network.layers:
            if layer.number == dense.number and layer is not dense and layer.kind != "dropout":
                kind = layer.kind
        activations.append(ACTIVATION_NAMES.get(kind, kind))
    return Structure(sizes, activations)


def layer_title(structure: Structure, layer: int) -> str:
    if layer == 0:
        return "input"
    activation = structure.activations[layer - 1]
    suffix = f" ({activation})" if activation else ""
    if layer == len(structure.sizes) - 1:
        return f"output{suffix}"
    return f"hidden {layer}{suffix}"


def layout(structure: Structure) -> Layout:
    """Place neurons and edges (or layer boxes and arrows) on a canvas."""
    n_layers = len(structure.sizes)
    xs: list[float] = [MARGIN_X]
    for k in range(1, n_layers):
        gap = LAYER_GAP
        if structure.detailed:
            # One column of edge labels per source unit, about 62 pixels apart.
            gap = max(LAYER_GAP, 62 * structure.sizes[k - 1] + 60)
        xs.append(xs[-1] + gap)
    width = xs[-1] + MARGIN_X
    if structure.detailed:
        tallest = max(structure.sizes)
    else:
        tallest = 2
    height = MARGIN_TOP + MARGIN_BOTTOM + tallest * UNIT_GAP
    result = Layout(width=width, height=height, structure=structure)
    middle = MARGIN_TOP + tallest * UNIT_GAP / 2
    positions: list[list[tuple[float, float]]] = []
    for layer, size in enumerate(structure.sizes):
        x = xs[layer]
        result.captions.append((x, MARGIN_TOP - 30, layer_title(structure, layer)))
        if not structure.detailed:
            result.nodes.append(Node(f"n-{layer}", x, middle, layer, 0, f"{layer_title(structure, layer)}: {size} units",
                                     box=(120, 70)))
            positions.append([(x, middle)])
            continue
        top = middle - (size - 1) * UNIT_GAP / 2
        column: list[tuple[float, float]] = []
        for index in range(size):
            y = top + index * UNIT_GAP
            result.nodes.append(Node(f"n-{layer}-{index}", x, y, layer, index,
                                     f"{layer_title(structure, layer)}, unit {index + 1}"))
            column.append((x, y))
        positions.append(column)
    for k in range(1, n_layers):
        if not structure.detailed:
            (x1, y1), (x2, y2) = positions[k - 1][0], positions[k][0]
            result.edges.append(Edge(f"e-{k}", x1 + 60, y1, x2 - 60, y2, k, (x1 + x2) / 2, y1 - 14))
            continue
        n_in = len(positions[k - 1])
        for i, (x1, y1) in enumerate(positions[k - 1]):
            for j, (x2, y2) in enumerate(positions[k]):
                # The labels of source unit i sit in their own column, so labels of
                # different units never share a spot where their edges cross.
                fraction = 0.3 if n_in == 1 else 0.15 + 0.7 * (i + 0.5) / n_in
                lx = x1 + fraction * (x2 - x1)
                ly = y1 + fraction * (y2 - y1)
                result.edges.append(Edge(f"e-{k}-{i}-{j}", x1 + RADIUS, y1, x2 - RADIUS, y2, k, lx, ly))
    return result


# ---------------------------------------------------------------- highlights

_PARAMETER = re.compile(r"^(?:d|v_|m_|m_hat_|v_hat_)?([Wb])(\d+)(?:_new)?$")
_LAYER_SYMBOL = re.compile(r"^(?:z|a|delta|mask)(\d+)(?:_dropped)?$")
_DERIVATIVE = re.compile(r"^[A-Za-z_]+'\(z(\d+)\)$")
_UPSTREAM = re.compile(r"^dL/da(\d+)(?:_dropped)?$")


def _units(structure: Structure, layer: int) -> list[str]:
    if not structure.detailed:
        return [f"n-{layer}"]
    return [f"n-{layer}-{i}" for i in range(structure.sizes[layer])]


def _weights(structure: Structure, k: int) -> list[str]:
    if not structure.detailed:
        return [f"e-{k}"]
    return [f"e-{k}-{i}-{j}" for i in range(structure.sizes[k - 1]) for j in range(structure.sizes[k])]


def highlight_ids(trace: Trace, quantity: Quantity, structure: Structure | None = None) -> list[str]:
    """Return the ids of the neurons and edges a quantity involves on the diagram."""
    structure = structure or structure_from_trace(trace)
    last = len(structure.sizes) - 1
    symbol = quantity.symbol
    if symbol == "X":
        return _units(structure, 0)
    if symbol in ("y", "t", "L", "dL/dy"):
        return _units(structure, last)
    match = _PARAMETER.match(symbol)
    if match:
        kind, k = match.group(1), int(match.group(2))
        if k > last:
            return []
        if kind == "b":
            return _units(structure, k)
        ids = _weights(structure, k)
        if symbol.startswith("dW"):
            ids = _units(structure, k - 1) + ids + _units(structure, k)
        return ids
    match = _LAYER_SYMBOL.match(symbol) or _DERIVATIVE.match(symbol)
    if match:
        k = int(match.group(1))
        if k > last:
            return []
        ids = _units(structure, k)
        if symbol.startswith("z"):
            ids = _units(structure, k - 1) + _weights(structure, k) + ids
        return ids
    match = _UPSTREAM.match(symbol)
    if match:
        k = int(match.group(1))
        if k + 1 > last:
            return _units(structure, k)
        return _units(structure, k) + _weights(structure, k + 1) + _units(structure, k + 1)
    if quantity.layer and quantity.layer <= last:
        return _units(structure, quantity.layer)
    return []


# ---------------------------------------------------------------- labels

PHASE_LABELS = {
    "parameters": "initial weights and biases",
    "forward": "forward pass: pre-activation z and output a of each unit",
    "loss": "loss: output y against target t",
    "backward": "backward pass: delta = dL/dz of each unit, weight gradients dW on the edges",
    "update": "update: new weights and biases",
}


def _first_row(value: ArrayLike) -> NDArray[Any]:
    array = np.asarray(value)
    if array.ndim == 2:
        first: NDArray[Any] = array[0]
        return first
    return array


def _short(x: float | np.floating[Any], precision: int) -> str:
    return format_number(x, precision)


def _summary(value: ArrayLike, precision: int) -> str:
    array = np.asarray(value, dtype=float)
    if array.size == 0:
        return ""
    return f"mean {_short(array.mean(), precision)}, |max| {_short(np.abs(array).max(), precision)}"


def diagram_labels(
    trace: Trace, phase: str, precision: int = 3, structure: Structure | None = None
) -> dict[str, list[str]]:
    """Return ``{id: [lines]}`` of text for the neurons and edges in one phase.

    Per-sample values come from the first sample of the batch. Layer-level
    diagrams show a summary (mean and largest magnitude) instead.
    """
    structure = structure or structure_from_trace(trace)
    last = len(structure.sizes) - 1
    labels: dict[str, list[str]] = {}
    before = trace.parameters_before
    after = trace.parameters_after

    def has(symbol: str) -> bool:
        return symbol in trace

    def unit_values(layer: int, entries: list[tuple[str, ArrayLike]]) -> None:
        """Label each unit of ``layer`` with ``name=value`` lines from ``entries`` [(name, array)]."""
        if not structure.detailed:
            labels[f"n-{layer}"] = [f"{name}: {_summary(value, precision)}" for name, value in entries]
            return
        for i in range(structure.sizes[layer]):
            labels[f"n-{layer}-{i}"] = [f"{name}={_short(_first_row(value)[i], precision)}" for name, value in entries]

    def edge_values(k: int, matrix: NDArray[Any], name: str) -> None:
        if not structure.detailed:
            labels[f"e-{k}"] = [f"{name}{k}: {_summary(matrix, precision)}"]
            return
        for i in range(structure.sizes[k - 1]):
            for j in range(structure.sizes[k]):
                labels[f"e-{k}-{i}-{j}"] = [_short(matrix[i, j], precision)]

    if has("X"):
        unit_values(0, [("x", trace.value("X"))])
    for k in range(1, last + 1):
        W = before.get(f"W{k}")
        b = before.get(f"b{k}")
        output = "y" if k == last else f"a{k}"
        # A trace built by hand may lack some parameters, so their labels are left out.
        if phase == "parameters":
            if W is not None:
                edge_values(k, W, "W")
            if b is not None:
                unit_values(k, [("b", b)])
        elif phase == "forward":
            if W is not None:
                edge_values(k, W, "W")
            entries: list[tuple[str, ArrayLike]] = [(f"z{k}" if structure.detailed else "z", trace.value(f"z{k}"))] if has(f"z{k}") else []
            if has(output) and output != f"z{k}":
                entries.append(("y" if k == last else "a", trace.value(output)))
            unit_values(k, entries)
        elif phase == "loss":
            if W is not None:
                edge_values(k, W, "W")
            if k == last and has("y") and has("t"):
                unit_values(k, [("y", trace.value("y")), ("t", trace.value("t"))])
            elif has(output):
                unit_values(k, [("a", trace.value(output))])
        elif phase == "backward":
            if has(f"dW{k}"):
                edge_values(k, trace.value(f"dW{k}"), "dW")
            if has(f"delta{k}"):
                unit_values(k, [("δ", trace.value(f"delta{k}"))])
        elif phase == "update":
            if f"W{k}" in after:
                edge_values(k, after[f"W{k}"], "W")
            if f"b{k}" in after:
                unit_values(k, [("b", after[f"b{k}"])])
    return labels
