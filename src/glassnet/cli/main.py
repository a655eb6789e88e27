"""Entry point of the ``glassnet`` command: argument parsing and error reporting.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args)``. Only the module of the command being run is imported, and each
imports its heavy dependencies inside ``run``, so ``glassnet --help`` and
``glassnet demo`` pay neither for scikit-learn or matplotlib nor for reading
the other commands' modules.
"""

import argparse
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import NoReturn

from .. import __version__
from ..errors import GlassnetError

# Subcommand name -> (module under glassnet.cli, one-line help).
COMMANDS = {
    "demo": ("demo", "reproduce the classic 2-2-1 one-step lesson, every number with its formula"),
    "step": ("step", "run training steps of a network file (TOML or JSON) and explain each one"),
    "explain": ("explain", "explain a network file's step as a worked solution: terminal, Markdown, LaTeX, JSON, HTML"),
    "check": ("check", "check hand-computed answers against a network file and name the likely mistake"),
    "exercise": ("exercise", "write a backpropagation exercise with friendly numbers, and its answer key"),
    "gradcheck": ("gradcheck", "compare analytic gradients with finite differences"),
    "diagnose": ("diagnose", "report dead units, saturation, vanishing or exploding gradients and NaN/inf"),
    "train": ("train", "train an MLP on a bundled data set or a CSV file"),
    "predict": ("predict", "apply a saved model to a CSV file"),
    "evaluate": ("evaluate", "print the metrics of a saved model on a CSV file or a data set's test split"),
    "plot": ("plot", "draw decision regions or training curves to a PNG file"),
    "export": ("export", "write a saved model as ONNX or as a PyTorch state_dict"),
}


class OneLineParser(argparse.ArgumentParser):
    """An argument parser that reports a usage error in one line and exits with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """Return the parser of the ``glassnet`` command.

    Every command is listed, but only those named in ``commands`` (all of
    them when None) get their arguments and handler, because that imports
    the command's module.
    """
    complete = set(COMMANDS) if commands is None else set(commands)
    parser = OneLineParser(
        prog="glassnet",
        description="Neural networks with explicit, verified and fast backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:] + ".")
        if name in complete:
            module = importlib.import_module(f"glassnet.cli.{module_name}")
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """Return the first argument that does not start with "-".

    The top-level options (--help, --version) take no value, so that argument
    is the one argparse reads as the command.
    """
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failed check, 2 error)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser([name] if (name := _command_named(arguments)) else [])
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        status: int | None = args.handler(args)
    except GlassnetError as exc:
        print(f"glassnet {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        # Library boundaries raise glassnet errors; anything else reaching here is
        # still reported in one line rather than as a traceback.
        print(f"glassnet {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `glassnet demo | head`): stop quietly,
        # and point stdout at /dev/null so the interpreter's final flush cannot fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        print(f"glassnet {args.command}: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"glassnet {args.command}: interrupted", file=sys.stderr)
        return 130
    return status or 0


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":
    sys.exit(main())
