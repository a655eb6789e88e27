"""``glassnet exercise``: a backpropagation problem with friendly numbers, or its answer key."""

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layers", default="2,2,1", metavar="SIZES",
                        help="layer widths, input first, each 1 to 8 (default 2,2,1)")
    parser.add_argument("--activations", default="relu,sigmoid", metavar="NAMES",
                        help="one activation per Dense layer, comma-separated (default relu,sigmoid)")
    parser.add_argument("--loss", default="half-squared-error",
                        help="half-squared-error (default), mean-squared-error, binary-cross-entropy, "
                             "categorical-cross-entropy")
    parser.add_argument("--reduction", choices=["mean", "sum"], default="mean",
                        help="how the loss combines samples and outputs (default mean)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same exercise (default 0)")
    parser.add_argument("--batch-size", type=int, default=1, metavar="N", help="samples in the batch, 1 to 4")
    parser.add_argument("--decimals", type=int, default=1, choices=[1, 2],
                        help="1: numbers like 0.3 (default); 2: numbers like 0.25")
    parser.add_argument("--learning-rate", type=float, default=None, metavar="LR", help="step size (default 0.1)")
    parser.add_argument("--format", choices=["markdown", "latex"], default="markdown")
    parser.add_argument("--solution", action="store_true", help="write the worked answer key instead of the problem")
    parser.add_argument("--output", "-o", default=None, metavar="PATH", help="write to this file")
    parser.add_argument("--network-file", default=None, metavar="PATH",
                        help="also save the exercise as a TOML network file, for glassnet check --against")


def run(args: argparse.Namespace) -> int:
    from ..exercises import (exercise_latex, exercise_markdown, make_exercise, network_file_text, parse_sizes,
                             solution_latex, solution_markdown)
    from ..serialization import atomic_write_text
    from .paths import check_outputs

    check_outputs([("--output", args.output), ("--network-file", args.network_file)])
    sizes = parse_sizes(args.layers)
    exercise = make_exercise(sizes, args.activations.split(","), args.loss, args.seed, args.batch_size,
                             args.decimals, args.learning_rate, args.reduction)
    if args.solution:
        text = solution_latex(exercise) if args.format == "latex" else solution_markdown(exercise)
    else:
        text = exercise_latex(exercise) if args.format == "latex" else exercise_markdown(exercise)
    if args.output:
        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    if args.network_file:
        atomic_write_text(args.network_file, network_file_text(exercise))
        print(f"wrote {args.network_file}", file=sys.stderr)
    return 0
