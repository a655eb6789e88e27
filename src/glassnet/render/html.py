"""HTML rendering: notebook displays (``_repr_html_``) and the self-contained explain page.

Everything is inline: no script, style sheet or font is fetched from the
network, so a page works offline and from ``file://``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Sequence
from html import escape
from typing import TYPE_CHECKING, TypedDict, cast

from .diagram import PHASE_LABELS, Structure, diagram_labels, layout, structure_from_trace
from .svg import layout_svg, network_svg, trace_svg
from .text import PHASE_TITLES, capitalize, format_number, format_value
from .worked import worked_steps

if TYPE_CHECKING:
    from ..gradcheck import GradcheckReport, ParameterCheck
    from ..layers import Dense
    from ..network import Sequential
    from ..trace import Trace


class Frame(TypedDict):
    """One quantity of the explain page, as the page script reads it."""

    step: int
    phase: str
    phase_title: str
    symbol: str
    name: str
    formula: str
    substituted: str
    result: str
    reduction: str
    note: str
    given: bool
    highlight: list[str]
    labels: str
    diagram_title: str


class PageData(TypedDict):
    """The JSON data embedded in the explain page."""

    frames: list[Frame]
    labels: dict[str, dict[str, list[str]]]
    label_ids: list[str]

TABLE_STYLE = """
<style>
.gn-table { border-collapse: collapse; font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12px; }
.gn-table th, .gn-table td { border: 1px solid #d9e2ec; padding: 3px 7px; text-align: left; vertical-align: top; }
.gn-table th { background: #f0f4f8; }
.gn-table td.gn-phase { background: #f0f4f8; font-weight: bold; font-family: sans-serif; }
.gn-pass { color: #2b8a3e; font-weight: bold; }
.gn-fail { color: #c92a2a; font-weight: bold; }
</style>
"""

_counter = itertools.count(1)


def _prefix() -> str:
    """Return a fresh id prefix, so several diagrams in one notebook never share ids."""
    return f"gn{next(_counter)}-"


def worked_table(
    trace: Trace,
    precision: int = 8,
    input_precision: int = 4,
    phases: Collection[str] | None = None,
    layer: int | None = None,
) -> str:
    """Return an HTML table of the worked steps: symbol, name, formula, with numbers, result."""
    rows = ["<table class='gn-table'><tr><th>symbol</th><th>quantity</th><th>formula</th>"
            "<th>with numbers</th><th>result</th></tr>"]
    current: str | None = None
    for step in worked_steps(trace, phases, layer):
        if step.phase != current:
            current = step.phase
            rows.append(f"<tr><td class='gn-phase' colspan='5'>{escape(PHASE_TITLES.get(current, current))}</td></tr>")
        formula = "given" if step.given else step.formula
        numbers = "" if step.given else step.substituted(input_precision)
        extra = f"<br><small>{escape(step.reduction)}</small>" if step.reduction else ""
        rows.append(f"<tr><td>{escape(step.symbol)}</td><td>{escape(capitalize(step.name))}</td>"
                    f"<td>{escape(formula)}{extra}</td><td>{escape(numbers)}</td>"
                    f"<td>{escape(step.result(precision))}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def trace_html(trace: Trace, precision: int = 8) -> str:
    """Return an HTML fragment for a trace: forward and backward diagrams and the worked table."""
    diagrams = "".join(
        f"<div>{trace_svg(trace, phase, standalone=False, prefix=_prefix())}</div>" for phase in ("forward", "backward")
    )
    summary = (f"<p><b>Step {trace.step}</b>: loss {escape(trace.loss_name)} ({trace.reduction} over a batch of "
               f"{trace.batch_size}) = {format_number(trace.loss, precision)}; {escape(trace.optimizer)}</p>")
    return (f"<div class='gn-trace'>{TABLE_STYLE}{summary}<div style='display:flex;flex-wrap:wrap;gap:8px'>"
            f"{diagrams}</div>{worked_table(trace, precision)}</div>")


def network_html(network: Sequential, precision: int = 6) -> str:
    """Return an HTML fragment for a Sequential network: diagram, layer table and parameters."""
    network._ensure_named()  # another network may have renamed shared layers since this one used them
    rows = ["<table class='gn-table'><tr><th>layer</th><th>kind</th><th>shape</th><th>parameters</th></tr>"]
    for layer in network.layers:
        shape = ""
        if layer.kind == "dense":
            dense = cast("Dense", layer)
            shape = f"{dense.in_features} → {dense.out_features}"
        values = "<br>".join(
            f"{escape(name)}{layer.number} = {escape(format_value(value, precision))}"
            for name, value in layer.params.items()
        )
        rows.append(f"<tr><td>{escape(layer.name)}</td><td>{escape(layer.kind)}</td><td>{shape}</td>"
                    f"<td>{values}</td></tr>")
    rows.append("</table>")
    head = (f"<p><b>Sequential</b> network, {network.n_parameters} parameters, dtype {network.dtype.name}</p>")
    return (f"<div class='gn-network'>{TABLE_STYLE}{head}{network_svg(network, standalone=False, prefix=_prefix())}"
            f"{''.join(rows)}</div>")


def gradcheck_html(report: GradcheckReport) -> str:
    """Return an HTML fragment for a gradient-check report: a diagram marked per layer and a table."""
    rows = ["<table class='gn-table'><tr><th>parameter</th><th>shape</th><th>max abs error</th>"
            "<th>relative error</th><th>result</th></tr>"]
    weights: dict[int, ParameterCheck] = {}
    for row in report.rows:
        css = "gn-pass" if row.passed else "gn-fail"
        result = "pass" if row.passed else (
            f"FAIL at {row.worst_index}: analytic {row.analytic:.10g}, numerical {row.numerical:.10g}")
        rows.append(f"<tr><td>{escape(row.name)}</td><td>{escape(str(tuple(row.shape)))}</td>"
                    f"<td>{row.max_abs_error:.3e}</td><td>{row.relative_error:.3e}</td>"
                    f"<td class='{css}'>{escape(result)}</td></tr>")
        if row.symbol.startswith("W"):
            weights[int(row.symbol[1:])] = row
    rows.append("</table>")
    verdict = "all gradients pass" if report.passed else "some gradients FAIL"
    head = (f"<p><b>Gradient check</b> (central differences, eps = {report.eps:g}, tolerance = "
            f"{report.tolerance:g}): <span class='{'gn-pass' if report.passed else 'gn-fail'}'>{verdict}</span></p>")
    diagram = ""
    if weights and sorted(weights) == list(range(1, len(weights) + 1)):
        sizes = [weights[1].shape[0]] + [weights[k].shape[1] for k in sorted(weights)]
        structure = Structure(sizes, [""] * len(weights))
        plan = layout(structure)
        labels: dict[str, list[str]] = {}
        highlight: list[str] = []
        for k, row in weights.items():
            mark = "pass" if row.passed else "FAIL"
            text = [f"W{k}: {mark}", f"rel {row.relative_error:.1e}"]
            target = f"n-{k}" if not structure.detailed else f"n-{k}-{structure.sizes[k] - 1}"
            labels[target] = text
            if not row.passed:
                highlight.extend(e.id for e in plan.edges if e.layer == k)
        diagram = layout_svg(plan, labels, highlight, "relative error of each weight matrix", standalone=False,
                             prefix=_prefix())
    return f"<div class='gn-gradcheck'>{TABLE_STYLE}{head}{diagram}{''.join(rows)}</div>"


# ---------------------------------------------------------------- the explain page

PAGE_STYLE = """
body { font-family: 'DejaVu Sans', Verdana, sans-serif; margin: 18px 24px; color: #102a43; background: #f8fafc; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
header p { margin: 2px 0 10px 0; color: #486581; }
main { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
#diagram-panel { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 6px; }
#explain-panel { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 12px 16px;
  min-width: 380px; max-width: 640px; flex: 1; }
#position { color: #627d98; font-size: 13px; }
#phase { display: inline-block; margin-top: 6px; padding: 2px 10px; border-radius: 10px; background: #d9480f;
  color: #fff; font-size: 13px; }
#q-name { font-size: 18px; margin: 10px 0 8px 0; }
.eq { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 15px; margin: 5px 0;
  overflow-wrap: anywhere; }
.eq .label { color: #627d98; font-family: sans-serif; font-size: 12px; display: block; }
#q-result { color: #0b7285; font-weight: bold; }
#q-reduction, #q-note { color: #486581; font-size: 13px; }
nav { margin-top: 14px; display: flex; gap: 10px; align-items: center; }
button { font-size: 15px; padding: 6px 16px; border-radius: 6px; border: 1px solid #334e68; background: #fff;
  cursor: pointer; }
button:disabled { opacity: 0.4; cursor: default; }
#phases { margin-top: 12px; display: flex; flex-wrap: wrap; gap: 6px; }
#phases button { font-size: 12px; padding: 3px 10px; border-color: #9fb3c8; }
#all { margin-top: 18px; }
#all tr.current td { background: #ffe8cc; }
#all tr { cursor: pointer; }
"""

PAGE_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('gn-data').textContent);
  var frames = data.frames;
  var index = 0;
  var highlighted = [];
  function text(id, value) { document.getElementById(id).textContent = value; }
  function setLabel(id, lines) {
    var element = document.getElementById(id + '-label');
    if (!element) { return; }
    while (element.firstChild) { element.removeChild(element.firstChild); }
    if (element.classList.contains('edge-label')) { element.textContent = lines.join(' '); return; }
    var x = element.getAttribute('x');
    lines.slice(0, 3).forEach(function (line, number) {
      var span = document.createElementNS('http://www.w3.org/2000/svg', 'tspan');
      span.setAttribute('x', x);
      span.setAttribute('dy', number === 0 ? '0' : '13');
      span.textContent = line;
      element.appendChild(span);
    });
  }
  function show(position) {
    index = Math.max(0, Math.min(frames.length - 1, position));
    var frame = frames[index];
    highlighted.forEach(function (id) {
      var element = document.getElementById(id);
      if (element) { element.classList.remove('hl'); }
    });
    var labels = data.labels[frame.labels];
    data.label_ids.forEach(function (id) { setLabel(id, labels[id] || []); });
    frame.highlight.forEach(function (id) {
      var element = document.getElementById(id);
      if (element) { element.classList.add('hl'); }
    });
    highlighted = frame.highlight;
    text('position', 'training step ' + frame.step + ' \\u00b7 quantity ' + (index + 1) + ' of ' + frames.length);
    text('phase', frame.phase_title);
    text('q-name', frame.name);
    text('q-symbol', frame.symbol);
    text('q-formula', frame.formula);
    text('q-substituted', frame.substituted);
    text('q-result', frame.result);
    text('q-reduction', frame.reduction);
    text('q-note', frame.note);
    text('diagram-title', frame.diagram_title);
    document.getElementById('formula-row').style.display = frame.given ? 'none' : '';
    document.getElementById('numbers-row').style.display = frame.substituted ? '' : 'none';
    document.getElementById('prev').disabled = index === 0;
    document.getElementById('next').disabled = index === frames.length - 1;
    var rows = document.querySelectorAll('#all tr[data-index]');
    rows.forEach(function (row) { row.classList.toggle('current', Number(row.dataset.index) === index); });
  }
  document.querySelectorAll('#phases button').forEach(function (button) {
    button.addEventListener('click', function () {
      var step = frames[index].step;
      for (var i = 0; i < frames.length; i++) {
        if (frames[i].step === step && frames[i].phase === button.dataset.phase) { show(i); return; }
      }
    });
  });
  document.getElementById('prev').addEventListener('click', function () { show(index - 1); });
  document.getElementById('next').addEventListener('click', function () { show(index + 1); });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowRight') { show(index + 1); }
    if (event.key === 'ArrowLeft') { show(index - 1); }
  });
  document.querySelectorAll('#all tr[data-index]').forEach(function (row) {
    row.addEventListener('click', function () { show(Number(row.dataset.index)); });
  });
  show(0);
}());
"""


def page_frames(
    traces: Sequence[Trace], precision: int = 8, input_precision: int = 4, label_precision: int = 3
) -> PageData:
    """Return the data the explain page steps through: one frame per quantity, labels per phase."""
    frames: list[Frame] = []
    labels: dict[str, dict[str, list[str]]] = {}
    label_ids: set[str] = set()
    for trace in traces:
        structure = structure_from_trace(trace)
        batch = f" (first of {trace.batch_size} samples)" if trace.batch_size > 1 else ""
        for phase in PHASE_LABELS:
            key = f"{trace.step}:{phase}"
            labels[key] = diagram_labels(trace, phase, label_precision, structure)
            label_ids.update(labels[key])
        for step in worked_steps(trace):
            frames.append({
                "step": trace.step,
                "phase": step.phase,
                "phase_title": PHASE_TITLES.get(step.phase, step.phase),
                "symbol": step.symbol,
                "name": capitalize(step.name),
                "formula": "" if step.given else step.formula,
                "substituted": "" if step.given or step.substituted(input_precision) == step.formula
                else step.substituted(input_precision),
                "result": step.result(precision),
                "reduction": capitalize(step.reduction),
                "note": "" if step.note.startswith(("N = ", "lr = ")) else capitalize(step.note),
                "given": step.given,
                "highlight": step.highlight,
                "labels": f"{trace.step}:{step.phase}",
                "diagram_title": f"step {trace.step}, {PHASE_LABELS[step.phase]}{batch}",
            })
    return {"frames": frames, "labels": labels, "label_ids": sorted(label_ids)}


def explain_page(
    traces: Trace | list[Trace] | tuple[Trace, ...],
    title: str = "glassnet: one training step, explained",
    description: str = "",
    precision: int = 8,
    input_precision: int = 4,
) -> str:
    """Return a complete, self-contained HTML page that steps through the traces.

    The page shows the network diagram beside the current quantity's name,
    formula, formula with numbers and result; Next and Previous (or the arrow
    keys) move through parameters, forward pass, loss, backward pass and update,
    highlighting the neurons and edges each quantity involves.
    """
    if not isinstance(traces, (list, tuple)):
        traces = [traces]
    data = page_frames(traces, precision, input_precision)
    first = traces[0]
    diagram = trace_svg(first, "parameters", standalone=True)
    table = ["<table class='gn-table' id='all'><tr><th>#</th><th>step</th><th>symbol</th><th>quantity</th>"
             "<th>result</th></tr>"]
    for number, frame in enumerate(data["frames"]):
        table.append(f"<tr data-index='{number}'><td>{number + 1}</td><td>{frame['step']}</td>"
                     f"<td>{escape(frame['symbol'])}</td><td>{escape(frame['name'])}</td>"
                     f"<td>{escape(frame['result'])}</td></tr>")
    table.append("</table>")
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    phases: list[str] = []
    for frame in data["frames"]:
        if frame["phase"] not in phases:
            phases.append(frame["phase"])
    phase_buttons = "".join(f'<button type="button" class="phase-jump" data-phase="{phase}">'
                            f'{escape(PHASE_TITLES.get(phase, phase))}</button>' for phase in phases)
    about = escape(description) if description else (
        f"Loss {escape(first.loss_name)} ({first.reduction} over a batch of {first.batch_size}), "
        f"optimizer {escape(first.optimizer)}. Weights W have shape (inputs, outputs) and z = x · W + b.")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<style>{PAGE_STYLE}</style>
{TABLE_STYLE}
</head>
<body>
<header>
<h1>{escape(title)}</h1>
<p>{about}</p>
</header>
<main>
<section id="diagram-panel">
{diagram}
</section>
<section id="explain-panel">
<div id="position"></div>
<div id="phase"></div>
<h2 id="q-name"></h2>
<div class="eq" id="formula-row"><span class="label">formula</span><span id="q-symbol"></span> = <span id="q-formula"></span></div>
<div class="eq" id="numbers-row"><span class="label">with the numbers</span>= <span id="q-substituted"></span></div>
<div class="eq"><span class="label">result</span>= <span id="q-result"></span></div>
<p id="q-reduction"></p>
<p id="q-note"></p>
<div id="phases">{phase_buttons}</div>
<nav><button id="prev" type="button">&#8592; Previous</button><button id="next" type="button">Next &#8594;</button>
<span style="color:#627d98;font-size:12px">arrow keys work too</span></nav>
</section>
</main>
<section>
<h2 style="font-size:16px;margin-top:20px">Every quantity</h2>
{''.join(table)}
</section>
<script type="application/json" id="gn-data">{payload}</script>
<script>{PAGE_SCRIPT}</script>
</body>
</html>
"""
