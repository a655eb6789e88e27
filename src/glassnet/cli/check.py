"""``glassnet check``: mark hand-computed answers and name the most likely mistake."""

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("answers", metavar="ANSWERS",
                        help="JSON or TOML file of symbol = value, e.g. delta2 = [[-0.07]] (any subset)")
    parser.add_argument("--against", required=True, metavar="FILE",
                        help="network file the answers are about, or a bundled example (lesson, sigmoid-2-2-2)")
    parser.add_argument("--rtol", type=float, default=None, metavar="R",
                        help="relative tolerance of a correct answer (default 0.002: give 4 significant digits)")
    parser.add_argument("--atol", type=float, default=None, metavar="A",
                        help="absolute tolerance of a correct answer (default 1e-05)")
    parser.add_argument("--reveal", action="store_true", help="show the expected value of each wrong answer")
    parser.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace) -> int:
    from ..checker import DEFAULT_ATOL, DEFAULT_RTOL, check_answers, load_answers
    from ..errors import InvalidInputError
    from ..netfile import load_problem

    rtol = DEFAULT_RTOL if args.rtol is None else args.rtol
    atol = DEFAULT_ATOL if args.atol is None else args.atol
    for option, value in (("--rtol", rtol), ("--atol", atol)):
        if not value >= 0:
            raise InvalidInputError(f"{option} {value} must be a number >= 0")
    answers = load_answers(args.answers)
    problem = load_problem(args.against)
    report = check_answers(answers, problem, rtol=rtol, atol=atol)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.format(reveal=args.reveal))
    return 0 if report.passed else 1
