"""``glassnet evaluate``: metrics of a saved model on a CSV file or a bundled data set's test split."""

import argparse
from collections.abc import Sequence
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="model file written by glassnet train --out")
    parser.add_argument("data", metavar="DATA",
                        help="CSV file with the target column, or a bundled data set name (evaluated on the "
                             "test split that glassnet train made with the model's seed)")
    parser.add_argument("--format", choices=["table", "json"], default="table",
                        help="table for people (default) or json for scripts")


def run(args: argparse.Namespace) -> int:
    import json

    from ..errors import InvalidInputError
    from ..serialization import load_model
    from .model_data import bundled_test_split, is_csv_path, load_model_csv

    model = load_model(args.model)
    if is_csv_path(args.data):
        dataset = load_model_csv(model, args.data)
        # load_csv always stores the schema it used or made.
        assert dataset.schema is not None
        if dataset.y is None:
            raise InvalidInputError(
                f"{args.data} has no target column {dataset.schema.target!r}; evaluation needs the true values. "
                "Use glassnet predict for files without targets"
            )
        X, y, description = dataset.X, dataset.y, f"{args.data} ({len(dataset.y)} rows)"
    else:
        X, y, description = bundled_test_split(model, args.data)
    if len(y) == 0:
        raise InvalidInputError(f"{description} has no samples to evaluate")
    report = model.evaluate(X, y)
    if args.format == "json":
        document = {"model": args.model, "data": description, "task": model.task, "n_samples": int(len(y)),
                    "metrics": _without_nan(report)}
        print(json.dumps(document, indent=2))
        return 0
    print(f"model {args.model} ({model.task}) on {description}, {len(y)} samples")
    print(format_report(report, model.task))
    return 0


def _without_nan(value: object) -> object:
    # JSON has no NaN; an undefined metric is written as null.
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nan(item) for item in value]
    return value


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(str(cell).rjust(width) if i else str(cell).ljust(width)
                               for i, (cell, width) in enumerate(zip(row, widths))).rstrip())
    return "\n".join(lines)


def format_report(report: dict[str, Any], task: str) -> str:
    """Return the metrics of ``Model.evaluate`` as plain-text tables."""
    if task == "regression":
        rows = [["MSE", f"{report['mse']:.6g}"], ["MAE", f"{report['mae']:.6g}"], ["R²", f"{report['r2']:.4f}"]]
        return _table(["metric", "value"], rows)
    summary = [
        ["accuracy", f"{report['accuracy']:.4f}"],
        ["precision (macro)", f"{report['precision_macro']:.4f}"],
        ["recall (macro)", f"{report['recall_macro']:.4f}"],
        ["F1 (macro)", f"{report['f1_macro']:.4f}"],
        ["log-loss", f"{report['log_loss']:.4f}"],
    ]
    per_class = [[name, f"{values['precision']:.4f}", f"{values['recall']:.4f}", f"{values['f1']:.4f}",
                  str(values["support"])] for name, values in report["per_class"].items()]
    names = list(report["per_class"])
    matrix = [[name, *map(str, row)] for name, row in zip(names, report["confusion_matrix"])]
    return "\n\n".join([
        _table(["metric", "value"], summary),
        _table(["class", "precision", "recall", "F1", "support"], per_class),
        "confusion matrix (rows: true class, columns: predicted class)\n"
        + _table(["true \\ predicted", *names], matrix),
    ])
