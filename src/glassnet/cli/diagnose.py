"""``glassnet diagnose``: numerical health report of a network file or of a saved model on data."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..diagnose import HealthReport
    from ..errors import DivergenceError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?",
                        help="network file (TOML or JSON) with the network, a batch and its training settings")
    parser.add_argument("--steps", type=int, default=0, metavar="N",
                        help="network file only: full-batch training steps to run first with the file's "
                             "optimizer (default 0); training stops early if it diverges")
    parser.add_argument("--model", metavar="PATH", help="saved model to check instead of a network file")
    parser.add_argument("--data", metavar="CSV_OR_DATASET",
                        help="with --model: a CSV file in the model's columns, or the bundled data set's name "
                             "(its test split)")
    parser.add_argument("--samples", type=int, default=1000, metavar="N",
                        help="with --model: check at most the first N rows (default 1000)")
    parser.add_argument("--format", choices=["text", "json"], default="text",
                        help="text for people (default) or json")


def run(args: argparse.Namespace) -> int:
    """Print the report; return 0 when healthy, 1 when it lists a problem or training diverged."""
    import json

    from ..errors import InvalidInputError

    if (args.file is None) == (args.model is None):
        raise InvalidInputError("give either a network FILE or --model PATH with --data, not both or neither")
    if args.steps < 0:
        raise InvalidInputError(f"--steps {args.steps} is negative; expected 0 or more training steps")
    if args.model is not None:
        if args.steps:
            raise InvalidInputError("--steps works with a network FILE only; a saved model is checked as it is")
        report, divergence = _diagnose_model(args)
    else:
        report, divergence = _diagnose_file(args)

    if args.format == "json":
        document = report.to_dict()
        document["steps"] = args.steps
        document["diverged"] = None if divergence is None else {
            "epoch": divergence.epoch, "step": divergence.step, "message": str(divergence)}
        print(json.dumps(document, indent=2))
    else:
        if divergence is not None:
            print(f"glassnet diagnose: {divergence}")
            print(f"The report below is for the last finite parameters, those before step {divergence.step}.")
        elif args.steps:
            print(f"Ran {args.steps} training steps without divergence.")
        print(report)
    return 0 if report.healthy and divergence is None else 1


def _diagnose_file(args: argparse.Namespace) -> tuple[HealthReport, DivergenceError | None]:
    from ..diagnose import diagnose
    from ..errors import DivergenceError
    from ..netfile import load_problem
    from ..training import fit

    problem = load_problem(args.file)
    network, X, t, loss = problem.network, problem.X, problem.t, problem.loss
    divergence: DivergenceError | None = None
    if args.steps:
        try:
            fit(network, X, t, loss=loss, optimizer=problem.optimizer, epochs=args.steps, batch_size=X.shape[0],
                shuffle=False)
        except DivergenceError as exc:
            divergence = exc
    report = diagnose(network, X, t, loss, learning_rate=problem.optimizer.learning_rate)
    return report, divergence


def _diagnose_model(args: argparse.Namespace) -> tuple[HealthReport, DivergenceError | None]:
    import numpy as np

    from ..diagnose import diagnose
    from ..errors import InvalidInputError
    from ..serialization import load_model
    from .model_data import bundled_test_split, is_csv_path, load_model_csv

    if args.data is None:
        raise InvalidInputError("--model needs --data: a CSV file in the model's columns or a bundled data set name")
    if args.samples < 1:
        raise InvalidInputError(f"--samples {args.samples} is too small; expected 1 or more rows")
    model = load_model(args.model)
    if is_csv_path(args.data):
        dataset = load_model_csv(model, args.data)
        X, y = dataset.X, dataset.y
    else:
        X, y, _ = bundled_test_split(model, args.data)
    X = np.asarray(X)[:args.samples]
    inputs = model.transform(X)
    targets = None
    if y is not None:
        targets = np.asarray(y)[:args.samples]
        # Model requires target_mean and target_scale to be both set or both None.
        if model.task == "regression" and model.target_mean is not None and model.target_scale is not None:
            # The network was trained on standardised targets.
            targets = (targets.reshape(len(targets), -1) - model.target_mean) / model.target_scale
    learning_rate = (model.config or {}).get("learning_rate")
    report = diagnose(model.network, inputs, targets, model.loss, learning_rate=learning_rate)
    return report, None
