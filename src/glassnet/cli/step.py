"""``glassnet step``: run training steps of a network file and explain each one."""

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE",
                        help="network file (TOML or JSON) or a bundled example: lesson, sigmoid-2-2-2")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="number of training steps (default: the file's training.steps)")
    parser.add_argument("--format", choices=["text", "json"], default="text",
                        help="text for people (default) or json with full float64 precision")
    parser.add_argument("--precision", type=int, default=8, metavar="N",
                        help="significant digits of printed numbers (default 8)")
    parser.add_argument("--summary", action="store_true",
                        help="print only the loss of each step and the final parameters")


def run(args: argparse.Namespace) -> int:
    from ..render.text import format_number, format_value, render_trace
    from .explain import check_precision, load_traces

    check_precision(args.precision, "--precision")
    problem, traces = load_traces(args.file, args.steps)
    if args.format == "json":
        documents = [trace.to_dict() for trace in traces]
        output = documents[0] if len(documents) == 1 else {"steps": documents}
        json.dump(output, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{problem.name or problem.source}: {len(traces)} step(s), loss {problem.loss.name} "
          f"({problem.loss.reduction}), {problem.optimizer!r}")
    if not args.summary:
        for trace in traces:
            print()
            print(f"=== Step {trace.step} ===")
            print(render_trace(trace, precision=args.precision))
    print()
    for trace in traces:
        print(f"step {trace.step}: loss {format_number(trace.loss, args.precision)}")
    print("parameters after the last step:")
    for symbol, value in traces[-1].parameters_after.items():
        print(f"  {symbol} = {format_value(value, args.precision)}")
    return 0
