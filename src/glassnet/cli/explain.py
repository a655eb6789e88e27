"""``glassnet explain``: a network file's training step as a worked solution, in many formats."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..netfile import Problem
    from ..trace import Trace

FORMATS = ("terminal", "text", "markdown", "latex", "json", "html")
PHASES = ("parameters", "forward", "loss", "backward", "update")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", default="lesson", metavar="FILE",
                        help="network file (TOML or JSON) or a bundled example: lesson (default), sigmoid-2-2-2")
    parser.add_argument("--format", choices=FORMATS, default="terminal",
                        help="terminal (rich tables, plain text without rich), text, markdown, latex, json, "
                             "or html (a complete page, same as --html)")
    parser.add_argument("--only", default=None, metavar="PHASES",
                        help="show only these phases, comma-separated: " + ", ".join(PHASES))
    parser.add_argument("--layer", type=int, default=None, metavar="K",
                        help="show only quantities of Dense layer K (1 = first), plus the input and loss")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="number of training steps (default: the file's training.steps)")
    parser.add_argument("--precision", type=int, default=8, metavar="N",
                        help="significant digits of results (default 8)")
    parser.add_argument("--input-precision", type=int, default=4, metavar="N",
                        help="significant digits of the numbers substituted into formulas (default 4)")
    parser.add_argument("--output", "-o", default=None, metavar="PATH",
                        help="write to this file instead of standard output")
    parser.add_argument("--html", default=None, metavar="PATH",
                        help="also write a self-contained web page that steps through every quantity")
    parser.add_argument("--svg", default=None, metavar="PATH", help="also write the network diagram as SVG")
    parser.add_argument("--png", default=None, metavar="PATH",
                        help="also write the network diagram as PNG (drawn with matplotlib)")
    parser.add_argument("--phase", choices=PHASES, default="forward",
                        help="phase whose numbers the SVG/PNG diagram shows (default forward)")
    parser.add_argument("--standalone", action="store_true",
                        help="with --format latex: a complete document instead of equations to paste")


def check_precision(value: int, option: str) -> None:
    from ..errors import InvalidInputError

    if value < 1 or value > 17:
        raise InvalidInputError(f"{option} {value} must be between 1 and 17 significant digits")


def parse_phases(text: str | None) -> list[str] | None:
    from ..errors import InvalidInputError

    if text is None:
        return None
    phases = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [phase for phase in phases if phase not in PHASES]
    if unknown or not phases:
        raise InvalidInputError(f"--only {text!r} is invalid; use one or more of: {', '.join(PHASES)}")
    return phases


def load_traces(file: str, steps: int | None) -> tuple[Problem, list[Trace]]:
    from ..errors import InvalidInputError
    from ..netfile import load_problem

    if steps is not None and steps < 1:
        raise InvalidInputError(f"--steps {steps} must be >= 1")
    problem = load_problem(file)
    return problem, problem.run(steps)


def render(traces: list[Trace], args: argparse.Namespace, phases: list[str] | None, title: str) -> str:
    """Return the text of ``args.format`` for the traces."""
    if args.format == "markdown":
        from ..render.markdown import render_markdown

        return render_markdown(traces, args.precision, phases, args.layer, args.input_precision, title=title)
    if args.format == "latex":
        from ..render.latex import render_latex

        return render_latex(traces, args.precision, phases, args.layer, args.input_precision, args.standalone)
    if args.format == "json":
        from ..render.json import render_json

        return render_json(traces, args.precision, args.input_precision, phases, args.layer)
    if args.format == "html":
        from ..render.html import explain_page

        return explain_page(traces, title=title, precision=args.precision, input_precision=args.input_precision)
    from ..render.text import render_trace

    return "\n".join(f"=== Step {trace.step} ===\n" + render_trace(trace, args.precision, phases, args.layer,
                                                                    args.input_precision).lstrip("\n") + "\n"
                     for trace in traces)


def run(args: argparse.Namespace) -> int:
    from ..errors import InvalidInputError
    from ..serialization import atomic_write_text
    from .paths import check_outputs

    check_precision(args.precision, "--precision")
    check_precision(args.input_precision, "--input-precision")
    phases = parse_phases(args.only)
    check_outputs([("--output", args.output), ("--html", args.html), ("--svg", args.svg), ("--png", args.png)],
                  inputs=[("FILE", args.file)])
    problem, traces = load_traces(args.file, args.steps)
    layers = len(problem.network.dense_layers)
    if args.layer is not None and not 1 <= args.layer <= layers:
        raise InvalidInputError(f"--layer {args.layer} is out of range; this network has Dense layers 1 to {layers}")
    title = f"glassnet: {problem.name or problem.source}"

    if args.format == "terminal" and args.output is None:
        from ..render.terminal import render_terminal

        render_terminal(traces, args.precision, phases, args.layer, args.input_precision)
    else:
        text = render(traces, args, phases, title)
        if args.output:
            atomic_write_text(args.output, text)
        else:
            sys.stdout.write(text)
    write_extras(traces, args, title)
    return 0


def write_extras(traces: list[Trace], args: argparse.Namespace, title: str) -> None:
    """Write the --html page and --svg/--png diagrams when asked for."""
    from ..serialization import atomic_write_text

    if args.html:
        from ..render.html import explain_page

        atomic_write_text(args.html, explain_page(traces, title=title, precision=args.precision,
                                                  input_precision=args.input_precision))
        print(f"wrote {args.html}", file=sys.stderr)
    if args.svg:
        from ..render.svg import write_svg

        write_svg(traces[-1], args.svg, phase=args.phase)
        print(f"wrote {args.svg}", file=sys.stderr)
    if args.png:
        from ..render.svg import write_png

        write_png(traces[-1], args.png, phase=args.phase)
        print(f"wrote {args.png}", file=sys.stderr)
