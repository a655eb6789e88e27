"""``glassnet gradcheck``: analytic gradients against central differences."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..losses import Loss
    from ..network import Sequential


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layers", default=None, metavar="SIZES",
                        help="layer widths of a random network, e.g. 4,8,3 (default: the lesson network)")
    parser.add_argument("--activation", default=None,
                        help="hidden activation of the random network (default tanh)")
    parser.add_argument("--output", default=None,
                        help="output activation of the random network (default: suits the loss)")
    parser.add_argument("--loss", default=None,
                        help="loss (default: half-squared-error; the lesson's own loss for the lesson)")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N",
                        help="samples in the random batch (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random network and batch")
    parser.add_argument("--eps", type=float, default=1e-3, help="finite-difference step (default 1e-3)")
    parser.add_argument("--tolerance", type=float, default=1e-7, help="largest relative error accepted")
    parser.add_argument("--format", choices=["text", "json"], default="text")


def _random_problem(args: argparse.Namespace) -> tuple[Sequential, NDArray[Any], NDArray[Any], str]:
    import numpy as np

    from ..build import mlp
    from ..errors import InvalidInputError

    try:
        sizes = [int(part) for part in args.layers.split(",")]
    except ValueError as exc:
        raise InvalidInputError(f"--layers {args.layers!r} must be comma-separated integers, e.g. 4,8,3") from exc
    loss = args.loss or "half-squared-error"
    output = args.output
    if output is None:
        output = {"binary-cross-entropy": "sigmoid", "categorical-cross-entropy": "softmax"}.get(loss, "identity")
    if args.batch_size < 1:
        raise InvalidInputError(f"--batch-size {args.batch_size} must be >= 1")
    network = mlp(sizes, activation=args.activation, output=output, seed=args.seed, dtype="float64",
                  init="glorot_normal")
    rng = np.random.default_rng(args.seed + 1)
    X = rng.normal(size=(args.batch_size, sizes[0]))
    if loss in ("categorical-cross-entropy", "cross-entropy"):
        t = rng.integers(0, sizes[-1], size=args.batch_size)
    elif loss in ("binary-cross-entropy", "bce"):
        t = rng.integers(0, 2, size=(args.batch_size, sizes[-1])).astype(float)
    else:
        t = rng.normal(size=(args.batch_size, sizes[-1]))
    return network, X, t, loss


def run(args: argparse.Namespace) -> int:
    import json

    from ..gradcheck import gradcheck
    from ..netfile import load_problem

    loss: str | Loss
    if args.layers:
        args.activation = args.activation or "tanh"
        args.batch_size = 5 if args.batch_size is None else args.batch_size
        network, X, t, loss = _random_problem(args)
        title = f"random network {args.layers}, {args.activation} hidden, loss {loss}, seed {args.seed}"
    else:
        from ..errors import InvalidInputError

        for option, value in (("--activation", args.activation), ("--output", args.output),
                              ("--batch-size", args.batch_size)):
            if value is not None:
                raise InvalidInputError(
                    f"{option} describes a random network and needs --layers (e.g. --layers 4,8,3); "
                    "without --layers the lesson network is checked as it is"
                )
        overrides = {"loss": args.loss} if args.loss else None
        problem = load_problem(None, overrides)
        network, X, t, loss = problem.network, problem.X, problem.t, problem.loss
        title = f"lesson network, loss {getattr(loss, 'name', loss)}"
    report = gradcheck(network, X, t, loss, eps=args.eps, tolerance=args.tolerance)
    if args.format == "json":
        print(json.dumps({"network": title, **report.to_dict()}, indent=2))
    else:
        print(f"Gradient check: {title}")
        print(report)
    return 0 if report.passed else 1
