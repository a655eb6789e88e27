"""``glassnet predict``: apply a saved model to a CSV file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ..model import Model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="model file written by glassnet train --out")
    parser.add_argument("data", metavar="DATA.csv",
                        help="CSV file with the model's feature columns (a target column is allowed and ignored)")
    parser.add_argument("--proba", action="store_true",
                        help="also write the probability of every class (classification models)")
    parser.add_argument("--out", metavar="PATH", help="write the predictions to PATH instead of standard output")


def prediction_table(model: Model, X: ArrayLike, proba: bool = False) -> tuple[list[str], list[list[str]]]:
    """Return ``(header, rows)`` of the predictions for raw inputs ``X``."""
    from ..errors import InvalidInputError

    if proba and model.task != "classification":
        raise InvalidInputError("--proba needs a classification model; this model does regression")
    if model.task == "regression":
        values = model.output(X)
        if values.shape[1] == 1:
            return ["prediction"], [[repr(float(value))] for value in values[:, 0]]
        header = [f"prediction_{k}" for k in range(values.shape[1])]
        return header, [[repr(float(value)) for value in row] for row in values]
    probabilities = model.predict_proba(X)
    labels = model.predict(X)
    header = ["prediction"]
    # Model.predict has raised above if the classifier has no class names.
    assert model.class_names is not None
    if proba:
        header += [f"proba_{name}" for name in model.class_names]
    rows: list[list[str]] = []
    for label, row in zip(labels, probabilities):
        cells = [str(label)]
        if proba:
            cells += [repr(float(value)) for value in row]
        rows.append(cells)
    return header, rows


def run(args: argparse.Namespace) -> int:
    import csv
    import io
    import sys

    from ..serialization import atomic_write_text, load_model
    from .model_data import load_model_csv
    from .paths import check_outputs

    check_outputs([("--out", args.out)], inputs=[("MODEL", args.model), ("DATA.csv", args.data)])
    model = load_model(args.model)
    dataset = load_model_csv(model, args.data)
    header, rows = prediction_table(model, dataset.X, proba=args.proba)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    if args.out:
        atomic_write_text(args.out, buffer.getvalue())
        print(f"wrote {len(rows)} predictions to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(buffer.getvalue())
    return 0
