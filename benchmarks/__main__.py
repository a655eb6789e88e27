"""Command line of the benchmark suite: ``python -m benchmarks [--quick|--smoke] [--format json]``."""

import argparse
import json
import sys
from dataclasses import dataclass

from . import THREADS


@dataclass
class Settings:
    """Sizes of one run. ``repeats`` alternated repetitions feed every median."""

    mlp_samples: int = 60_000
    batch_sizes: tuple = (32, 128, 1024)
    dtypes: tuple = ("float32", "float64")
    # float64 is measured at these batch sizes only (the targets are all float32).
    float64_batch_sizes: tuple = (32, 128, 1024)
    repeats: int = 7
    lesson_steps: int = 1000
    memory_samples: int = 60_000
    memory_batch_size: int = 128
    digits_max_epochs: int = 100
    warmup: int = 1


MODES = {
    "full": Settings(),
    "quick": Settings(mlp_samples=12_288, float64_batch_sizes=(128,), repeats=9, lesson_steps=300,
                      digits_max_epochs=60),
    # Tiny sizes for the smoke test: every row appears, no figure means anything.
    "smoke": Settings(mlp_samples=256, repeats=1, lesson_steps=2, memory_samples=256, digits_max_epochs=1,
                      warmup=0),
}

CASES = ("mlp784", "memory", "lesson221", "demo_cli", "digits_to_0975")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="smaller epochs and 9 repetitions; finishes in under 3 minutes on 2 cores")
    size.add_argument("--smoke", action="store_true",
                      help="tiny sizes and one repetition, to check that every row is produced")
    parser.add_argument("--format", choices=["markdown", "json"], default="markdown",
                        help="markdown tables with ratios (default) or a JSON list of result rows")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated cases to run (default: all of {', '.join(CASES)})")
    parser.add_argument("--repeats", type=int, default=None,
                        help="alternated repetitions per measurement (default 7, 9 with --quick)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    mode = "full"
    if args.quick:
        mode = "quick"
    if args.smoke:
        mode = "smoke"
    settings = MODES[mode]
    if args.repeats is not None:
        settings.repeats = args.repeats
    cases = [case.strip() for case in args.cases.split(",") if case.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        print(f"python -m benchmarks: error: unknown case(s) {unknown}; use {', '.join(CASES)}", file=sys.stderr)
        return 2

    from .harness import ensure_glassnet_importable, limit_threads, machine_info

    ensure_glassnet_importable()
    limit_threads(THREADS)
    from . import digits, lesson, memory, mlp784, startup

    runners = {"mlp784": mlp784.run, "memory": memory.run, "lesson221": lesson.run, "demo_cli": startup.run,
               "digits_to_0975": digits.run}
    info = machine_info()
    rows = []
    for case in cases:
        print(f"running {case} ({mode})...", file=sys.stderr, flush=True)
        rows += runners[case](settings)

    command = "python -m benchmarks" + " ".join([""] + (argv if argv is not None else sys.argv[1:]))
    if args.format == "json":
        print(f"environment: {json.dumps(info)}", file=sys.stderr)
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        from .report import to_markdown

        print(to_markdown(rows, info, command))
    return 0


def render_saved(paths):
    """Print the Markdown report of JSON row files written by earlier ``--format json`` runs."""
    from .harness import ensure_glassnet_importable, limit_threads, machine_info
    from .report import targets_across_runs, to_markdown

    ensure_glassnet_importable()
    limit_threads(THREADS)
    if not paths:
        print("python -m benchmarks render: error: give one or more JSON files written by --format json",
              file=sys.stderr)
        return 2
    runs = []
    for path in paths:
        try:
            runs.append(_load_rows(path))
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            print(f"python -m benchmarks render: error: cannot read {path}: {reason}; "
                  "give JSON files written by python -m benchmarks --format json", file=sys.stderr)
            return 2
    # The tables show the first run; with several runs, every run's targets follow with their median.
    try:
        report = to_markdown(runs[0], machine_info(), "python -m benchmarks --format json, one run per file: "
                             + ", ".join(paths), measured=False)
        if len(runs) > 1:
            report += "\n" + targets_across_runs(runs)
    except KeyError as error:
        print(f"python -m benchmarks render: error: a row of {', '.join(paths)} has no field {error}; "
              "give JSON files written by python -m benchmarks --format json", file=sys.stderr)
        return 2
    print(report)
    return 0


# Keys that every row of a saved run has, whatever its case (see the JSON rows in docs/benchmarks.md).
_ROW_KEYS = ("case", "implementation", "measure")


def _load_rows(path):
    """Read the result rows saved in ``path``, raising ValueError unless the file is a JSON list of rows."""
    with open(path, encoding="utf-8") as saved:
        rows = json.load(saved)  # json.JSONDecodeError is a ValueError
    if not isinstance(rows, list):
        found = {dict: "an object", str: "a string", bool: "a boolean"}.get(type(rows), "a number or null")
        raise ValueError(f"expected a JSON list of result rows, found {found}")
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not all(key in row for key in _ROW_KEYS):
            raise ValueError(f"row {index} is not a result row with the keys {', '.join(_ROW_KEYS)}: {row!r:.80}")
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["render"]:
        sys.exit(render_saved(sys.argv[2:]))
    sys.exit(main())
