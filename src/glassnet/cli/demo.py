"""``glassnet demo``: the classic 2-2-1 lesson, one step, every number explained."""

import argparse
import json
import sys

LOSS_EXPLANATION = {
    "half-squared-error": (
        "Loss: half the squared error, L = ½(y - t)², whose derivative is exactly dL/dy = y - t.\n"
        "The output delta then carries the sigmoid derivative: delta2 = (y - t) · y(1 - y).\n"
        "With binary cross-entropy instead (--loss binary-cross-entropy) the sigmoid derivative\n"
        "cancels against the loss derivative and delta2 = y - t."
    ),
    "binary-cross-entropy": (
        "Loss: binary cross-entropy, L = -[t log y + (1 - t) log(1 - y)], so dL/dy = (y - t) / (y(1 - y)).\n"
        "Multiplied by sigmoid'(z2) = y(1 - y) this cancels to delta2 = y - t: no sigmoid' factor.\n"
        "With half the squared error (the lesson's loss), dL/dy = y - t and delta2 = (y - t) · y(1 - y)."
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["text", "json"], default="text",
                        help="text for people (default) or json with full float64 precision")
    parser.add_argument("--precision", type=int, default=8, metavar="N",
                        help="significant digits of printed numbers (default 8)")
    parser.add_argument("--learning-rate", type=float, default=None, metavar="LR",
                        help="gradient-descent step size (the lesson uses 0.1)")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="number of training steps to trace (default 1)")
    parser.add_argument("--loss", choices=["half-squared-error", "binary-cross-entropy"], default=None,
                        help="loss of the output (the lesson uses half-squared-error)")
    parser.add_argument("--hidden-activation", choices=["relu", "sigmoid", "tanh"], default=None,
                        help="activation of the hidden layer (the lesson uses relu)")
    parser.add_argument("--html", default=None, metavar="PATH",
                        help="also write a self-contained web page that steps through every quantity")


def run(args: argparse.Namespace) -> int:
    from ..errors import InvalidInputError
    from ..netfile import load_problem
    from ..render.text import render_trace
    from .paths import check_outputs

    if args.precision < 1 or args.precision > 17:
        raise InvalidInputError(f"--precision {args.precision} must be between 1 and 17 significant digits")
    if args.steps is not None and args.steps < 1:
        raise InvalidInputError(f"--steps {args.steps} must be >= 1")
    check_outputs([("--html", args.html)])
    overrides: dict[str, object] = {}
    if args.learning_rate is not None:
        overrides["learning_rate"] = args.learning_rate
    if args.loss is not None:
        overrides["loss"] = args.loss
    if args.hidden_activation is not None:
        overrides["hidden_activation"] = args.hidden_activation
    problem = load_problem(None, overrides)
    traces = problem.run(args.steps)
    if args.html:
        from ..render.html import explain_page
        from ..serialization import atomic_write_text

        atomic_write_text(args.html, explain_page(traces, title="glassnet demo: the classic 2-2-1 lesson",
                                                  precision=args.precision))
        print(f"wrote {args.html}", file=sys.stderr)

    if args.format == "json":
        documents = [trace.to_dict() for trace in traces]
        output = documents[0] if len(documents) == 1 else {"steps": documents}
        json.dump(output, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0

    loss_name = problem.loss.name
    print("glassnet demo: the classic 2-2-1 lesson")
    print("A 2-2-1 network (ReLU hidden layer, sigmoid output), one forward pass, one backward pass")
    print(f"and one step of plain gradient descent with learning rate {problem.optimizer.learning_rate:g}.")
    print("Weights W have shape (inputs, outputs) and z = x · W + b.")
    for trace in traces:
        print()
        print(f"=== Step {trace.step} ===")
        print(render_trace(trace, precision=args.precision))
    if len(traces) > 1:
        losses = ", ".join(f"{trace.loss:.{args.precision}g}" for trace in traces)
        print()
        print(f"Loss per step: {losses}")
    print()
    print(LOSS_EXPLANATION[loss_name])
    return 0
