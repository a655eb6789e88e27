"""Renderers of traces: every format shows every reference number of the lesson."""

import json
import re
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

import glassnet as gn
from glassnet.cli.main import main
from glassnet.netfile import load_problem, problem_from_dict
from glassnet.render.diagram import diagram_labels
from glassnet.render.html import explain_page, gradcheck_html, network_html, trace_html
from glassnet.render.latex import render_latex
from glassnet.render.markdown import render_markdown
from glassnet.render.svg import trace_svg, write_png, write_svg
from glassnet.render.text import format_number, render_trace
from glassnet.render.worked import worked_steps
from test_lesson import REFERENCE

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def lesson_trace():
    return load_problem("lesson").run()[0]


def reference_numbers():
    """Every number of the reference table, written with 8 significant digits."""
    numbers = set()
    for value in REFERENCE.values():
        for x in np.ravel(value):
            numbers.add(format_number(x, 8))
    return sorted(numbers)


def assert_every_reference_number(text):
    missing = [number for number in reference_numbers() if number not in text]
    assert not missing, f"missing reference numbers: {missing}"


def render_terminal_text(trace):
    from rich.console import Console

    from glassnet.render.terminal import render_terminal

    console = Console(record=True, width=260, file=open("/dev/null", "w"))
    render_terminal(trace, console=console)
    return console.export_text()


FORMATS = {
    "text": lambda trace: render_trace(trace),
    "terminal": render_terminal_text,
    "markdown": lambda trace: render_markdown(trace),
    "latex": lambda trace: render_latex(trace),
    "json": lambda trace: json.dumps([step["result"] for step in
                                      json.loads(__import__("glassnet.render.json", fromlist=["x"])
                                                 .render_json(trace))["worked"]]),
    "html": lambda trace: explain_page(trace),
    "notebook": lambda trace: trace_html(trace),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format_shows_every_reference_number(lesson_trace, name):
    assert_every_reference_number(FORMATS[name](lesson_trace))


def test_json_values_keep_full_precision(lesson_trace):
    from glassnet.render.json import render_json

    document = json.loads(render_json(lesson_trace))
    values = {q["symbol"]: q["value"] for q in document["quantities"]}
    for symbol, expected in REFERENCE.items():
        np.testing.assert_allclose(values[symbol], expected, rtol=1e-12, err_msg=symbol)
    worked = {step["symbol"]: step for step in document["worked"]}
    assert worked["dW2"]["substituted"] == "[[0.23], [0.36]] · [[-0.06998]]"
    assert "n-2-0" in worked["delta2"]["highlight"]


def test_substituted_line_of_weight_gradient(lesson_trace):
    steps = {step.symbol: step for step in worked_steps(lesson_trace)}
    assert steps["dW2"].line(precision=4, input_precision=4) == (
        "dW2 = a1ᵀ · delta2 = [[0.23], [0.36]] · [[-0.06998]] = [[-0.01609], [-0.02519]]")


def test_local_derivatives_by_name(lesson_trace):
    steps = {step.symbol: step for step in worked_steps(lesson_trace)}
    assert steps["sigmoid'(z2)"].line(3, 3) == "sigmoid'(z2) = y(1 - y) = [[0.679]](1 - [[0.679]]) = [[0.218]]"
    assert steps["ReLU'(z1)"].line(3, 3).endswith("= [[1, 1]]")
    assert steps["delta2"].line(3, 3) == "delta2 = dL/dy ⊙ sigmoid'(z2) = [[-0.321]] ⊙ [[0.218]] = [[-0.07]]"


def test_update_substitutes_learning_rate(lesson_trace):
    steps = {step.symbol: step for step in worked_steps(lesson_trace)}
    assert steps["b2_new"].line(8, 4) == "b2_new = b2 - lr · db2 = [0.3] - 0.1 · [-0.06998] = [0.30699779]"


def test_symbol_inside_other_symbol_not_substituted(lesson_trace):
    steps = {step.symbol: step for step in worked_steps(lesson_trace)}
    # "y" must not be replaced inside "dL/dy".
    assert steps["delta2"].substituted(3).startswith("[[-0.321]]")


BATCH = {
    "layers": [
        {"in_features": 2, "out_features": 3, "W": [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], "b": [0.0, 0.1, 0.2],
         "activation": "tanh"},
        {"in_features": 3, "out_features": 1, "W": [[0.7], [-0.8], [0.9]], "b": [0.1], "activation": "sigmoid"},
    ],
    "data": {"X": [[1, 2], [3, 4], [5, 6], [7, 8]], "t": [[1], [0], [1], [0]]},
    "training": {"loss": "half-squared-error", "learning_rate": 0.5},
}


def test_batch_shows_mean_over_samples():
    trace = problem_from_dict(json.loads(json.dumps(BATCH))).run()[0]
    text = render_trace(trace)
    assert "L = ½ Σ (y - t)² / N = " in text
    assert "/ 4 = " in text
    assert "(mean over N = 4 samples)" in text
    assert "(summed over the batch of 4 samples" in text
    markdown = render_markdown(trace)
    assert "Mean over N = 4 samples." in markdown


def test_mean_over_samples_and_outputs():
    document = json.loads(json.dumps(BATCH))
    document["layers"][1]["out_features"] = 2
    document["layers"][1]["W"] = [[0.7, 0.1], [-0.8, 0.2], [0.9, 0.3]]
    document["layers"][1]["b"] = [0.1, 0.2]
    document["data"]["t"] = [[1, 0], [0, 1], [1, 1], [0, 0]]
    trace = problem_from_dict(document).run()[0]
    assert "mean over N = 8 terms (4 samples × 2 outputs)" in render_trace(trace)


def test_only_and_layer_filters(lesson_trace):
    text = render_trace(lesson_trace, phases=["backward"], layer=2)
    assert "dW2" in text
    assert "dW1" not in text
    assert "z1 = " not in text


def test_latex_equations(lesson_trace):
    latex = render_latex(lesson_trace)
    assert r"\frac{\partial L}{\partial W_{2}} &= a_{1}^{\top}  \cdot  \delta_{2} \\" in latex
    assert r"\sigma'(z_{2}) &= y(1 - y) \\" in latex
    assert latex.count(r"\begin{align*}") == latex.count(r"\end{align*}") == len(lesson_trace)
    standalone = render_latex(lesson_trace, standalone=True)
    assert standalone.startswith(r"\documentclass{article}")
    assert standalone.rstrip().endswith(r"\end{document}")


def parse_svg(text):
    return ElementTree.fromstring(text)


def test_svg_neurons_edges_and_labels(lesson_trace):
    root = parse_svg(trace_svg(lesson_trace, "parameters"))
    circles = root.findall(f"{SVG}circle")
    lines = root.findall(f"{SVG}line")
    assert len(circles) == 2 + 2 + 1
    assert len(lines) == 2 * 2 + 2 * 1
    labels = {element.get("id"): "".join(element.itertext()) for element in root.iter(f"{SVG}text")
              if element.get("id")}
    assert labels["e-1-1-0-label"] == "0.5"
    assert labels["e-2-1-0-label"] == "0.8"
    assert labels["n-1-1-label"] == "b=0.2"


def test_svg_phases_show_their_numbers(lesson_trace):
    forward = trace_svg(lesson_trace, "forward")
    assert "z2=0.749" in forward
    assert "y=0.679" in forward
    backward = trace_svg(lesson_trace, "backward")
    assert "δ=-0.07" in backward
    assert "-0.0161" in backward
    update = trace_svg(lesson_trace, "update")
    assert "0.702" in update


def test_svg_highlight_marks_elements(lesson_trace):
    step = {s.symbol: s for s in worked_steps(lesson_trace)}["dW2"]
    root = parse_svg(trace_svg(lesson_trace, "backward", highlight=step.highlight))
    marked = {element.get("id") for element in root.iter() if "hl" in (element.get("class") or "").split()}
    assert marked == {"e-2-0-0", "e-2-1-0", "n-1-0", "n-1-1", "n-2-0"}


def test_diagram_labels_skip_missing_bias():
    network = gn.mlp([2, 2, 1], activation="sigmoid", output="sigmoid", seed=0, dtype="float64")
    trace = network.step(np.ones((1, 2)), np.zeros((1, 1)), "half-squared-error", gn.SGD(0.1), trace=True)
    del trace.parameters_before["b2"]
    labels = diagram_labels(trace, "parameters")
    assert "n-2-0" not in labels
    assert labels["n-1-0"][0].startswith("b=")
    assert "e-2-0-0" in labels


def test_svg_wide_network_is_layer_level():
    network = gn.mlp([3, 12, 2], activation="relu", output="identity", seed=0, dtype="float64")
    trace = network.step(np.ones((2, 3)), np.zeros((2, 2)), "half-squared-error", gn.SGD(0.1), trace=True)
    root = parse_svg(trace_svg(trace, "backward"))
    assert not root.findall(f"{SVG}circle")
    boxes = [element.get("id") for element in root.findall(f"{SVG}rect") if element.get("id")]
    assert boxes == ["n-0", "n-1", "n-2"]
    assert "dW2: mean" in trace_svg(trace, "backward")


def test_svg_unknown_phase(lesson_trace):
    with pytest.raises(gn.errors.InvalidInputError, match="phase='sideways'"):
        trace_svg(lesson_trace, "sideways")


def test_svg_and_png_files(lesson_trace, tmp_path):
    write_svg(lesson_trace, tmp_path / "d.svg", phase="backward")
    parse_svg((tmp_path / "d.svg").read_text())
    write_png(lesson_trace, tmp_path / "d.png", phase="backward")
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_page_is_self_contained(lesson_trace):
    page = explain_page(lesson_trace)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page)
    assert "http://www.w3.org/2000/svg" in page  # the SVG namespace is a name, not a fetch
    assert page.count("<script") == 2


def test_notebook_displays_are_html(lesson_trace, capsys):
    network = load_problem("lesson").network
    html = network._repr_html_()
    assert "<svg" in html
    assert "0.7" in html
    assert "dense1" in html
    html = lesson_trace._repr_html_()
    assert "<svg" in html
    assert "0.67896077" in html
    assert "dW2" in html
    report = gn.gradcheck(network, [[0.1, 0.2]], [[1.0]])
    html = report._repr_html_()
    assert "<svg" in html
    assert "dense2.W" in html
    assert "all gradients pass" in html
    assert capsys.readouterr().out == ""


def test_notebook_diagrams_have_distinct_ids(lesson_trace):
    first = trace_html(lesson_trace)
    second = trace_html(lesson_trace)
    ids_first = set(re.findall(r'id="([^"]+)"', first))
    ids_second = set(re.findall(r'id="([^"]+)"', second))
    assert not ids_first & ids_second


def test_gradcheck_html_marks_failure():
    from glassnet.gradcheck import GradcheckReport, ParameterCheck

    row = ParameterCheck("dense1.W", "W1", (2, 2), 0.1, 0.5, (0, 1), 1.0, 2.0, False)
    html = gradcheck_html(GradcheckReport(rows=[row]))
    assert "FAIL at (0, 1)" in html
    assert "class=\"edge hl\"" in html


def test_network_html_lists_layers():
    network = gn.mlp([2, 3, 1], activation="tanh", output="sigmoid", seed=1, dtype="float64")
    html = network_html(network)
    assert "tanh" in html
    assert "2 → 3" in html


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json", "html"])
def test_explain_command_formats(fmt, tmp_path, capsys):
    path = tmp_path / f"out.{fmt}"
    status = main(["explain", "lesson", "--format", fmt, "--output", str(path)])
    assert status == 0
    assert_every_reference_number(path.read_text())


def test_explain_command_terminal_default(capsys):
    status = main(["explain", "lesson", "--only", "forward"])
    out = capsys.readouterr().out
    assert status == 0
    assert "z1" in out
    assert "dW2" not in out


def test_explain_command_writes_html_svg_png(tmp_path, capsys):
    status = main(["explain", "sigmoid-2-2-2", "--format", "text", "--html", str(tmp_path / "p.html"),
                   "--svg", str(tmp_path / "d.svg"), "--png", str(tmp_path / "d.png"), "--phase", "update"])
    assert status == 0
    assert "0.59326999" in (tmp_path / "p.html").read_text()
    assert (tmp_path / "d.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, fragment", [
    (["--only", "sideways"], "--only 'sideways' is invalid"),
    (["--layer", "3"], "--layer 3 is out of range"),
    (["--precision", "30"], "--precision 30"),
    (["--steps", "0"], "--steps 0"),
])
def test_explain_command_errors(argv, fragment, capsys):
    status = main(["explain", "lesson", *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert fragment in err


def test_demo_html_page(tmp_path, capsys):
    status = main(["demo", "--html", str(tmp_path / "demo.html")])
    out = capsys.readouterr().out
    assert status == 0
    assert "[[0.67896077]]" in out
    assert_every_reference_number((tmp_path / "demo.html").read_text())


def test_terminal_falls_back_to_text(lesson_trace, monkeypatch, capsys):
    from glassnet.render import terminal

    monkeypatch.setattr(terminal, "rich_available", lambda: False)
    terminal.render_terminal(lesson_trace)
    out = capsys.readouterr().out
    assert "dW2 = a1ᵀ · delta2 = [[0.23], [0.36]] · [[-0.06998]] = [[-0.016094917], [-0.025192044]]" in out


OPTIMIZER_CASES = [{"optimizer": "adam"}, {"optimizer": "sgd", "momentum": 0.9, "clip_norm": 1.0},
                   {"optimizer": "rmsprop"}]


@pytest.mark.parametrize("settings", OPTIMIZER_CASES, ids=[case["optimizer"] for case in OPTIMIZER_CASES])
def test_every_format_renders_optimizer_and_dropout(settings):
    rng = np.random.default_rng(0)
    document = {
        "network": {"seed": 1},
        "layers": [{"in_features": 3, "out_features": 12, "activation": "leaky_relu", "alpha": 0.1, "dropout": 0.2},
                   {"in_features": 12, "out_features": 3, "activation": "softmax"}],
        "data": {"X": rng.normal(size=(5, 3)).tolist(), "t": [0, 1, 2, 0, 1]},
        "training": {"loss": "categorical-cross-entropy", **settings},
    }
    traces = problem_from_dict(document).run(2)
    from glassnet.render.json import render_json

    text = render_trace(traces[1])
    assert "mask1" in text
    assert "W2_new" in text
    assert "\\end{align*}" in render_latex(traces)
    assert "W2_new" in render_markdown(traces)
    assert len(json.loads(render_json(traces))["steps"]) == 2
    page = explain_page(traces)
    assert '"step": 2' in page
    for phase in ("parameters", "forward", "loss", "backward", "update"):
        parse_svg(trace_svg(traces[0], phase))


def test_gradcheck_diagram_titles_without_activation():
    report = gn.gradcheck(load_problem("lesson").network, [[0.1, 0.2]], [[1.0]])
    html = gradcheck_html(report)
    assert ">hidden 1<" in html
    assert "()" not in html


def balanced_braces(text):
    depth = 0
    for position, character in enumerate(text):
        if character == "{" and text[position - 1] != "\\":
            depth += 1
        elif character == "}" and text[position - 1] != "\\":
            depth -= 1
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("settings", OPTIMIZER_CASES, ids=[case["optimizer"] for case in OPTIMIZER_CASES])
def test_latex_braces_and_environments_balance(settings):
    document = json.loads(json.dumps(BATCH))
    document["training"].update(settings)
    trace = problem_from_dict(document).run(1)[0]
    latex = render_latex(trace, standalone=True)
    assert balanced_braces(latex)
    assert latex.count(r"\begin{") == latex.count(r"\end{")
    assert "\\sqrt(" not in latex


def test_latex_text_replacements():
    from glassnet.render.latex import latex_text

    assert latex_text("√v + sqrt(v)") == r"\operatorname{sqrt}v + \operatorname{sqrt}(v)"


def test_network_svg_after_view_renamed_layers():
    from glassnet.render.svg import network_svg

    network = gn.mlp([2, 3, 3, 1], activation="tanh", seed=1, dtype="float64")
    expected = network_svg(network)
    gn.Sequential(network.layers[2:])  # names the shared layers dense1, tanh1 and dense2 for itself
    assert network_svg(network) == expected
    assert "tanh" in network_html(network)
