"""``glassnet plot``: decision regions of a 2-D model, or the training curves of a saved model."""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    subparsers = parser.add_subparsers(dest="plot_kind", metavar="KIND", required=True)

    boundary = subparsers.add_parser(
        "boundary", help="decision regions of a model on 2-D data, with the training points",
        description="Draw the decision regions of a model with two inputs, with the training points. "
                    "Without MODEL, a quick model is trained on --dataset first.")
    boundary.add_argument("model", metavar="MODEL", nargs="?", help="model file written by glassnet train --out")
    boundary.add_argument("--dataset", metavar="NAME",
                          help="2-D bundled data set (moons, circles, spirals, xor); default: the model's own")
    boundary.add_argument("--out", metavar="PNG", default="boundary.png", help="PNG file (default boundary.png)")
    boundary.add_argument("--epochs", type=int, default=200, metavar="N",
                          help="epochs of the quick model trained without MODEL (default 200)")
    boundary.add_argument("--seed", type=int, default=0, help="seed of the quick model (default 0)")

    curves = subparsers.add_parser("curves", help="loss and metric curves stored in a model file",
                                   description="Draw the loss and metric curves stored in a model file.")
    curves.add_argument("model", metavar="MODEL", help="model file written by glassnet train --out")
    curves.add_argument("--out", metavar="PNG", default="curves.png", help="PNG file (default curves.png)")


def run(args: argparse.Namespace) -> int:
    from .paths import check_outputs

    check_outputs([("--out", args.out)], inputs=[("MODEL", args.model)])
    if args.plot_kind == "curves":
        return _curves(args)
    return _boundary(args)


def _curves(args: argparse.Namespace) -> int:
    from ..errors import InvalidInputError
    from ..plots import plot_history
    from ..serialization import load_model

    model = load_model(args.model)
    if model.history is None:
        raise InvalidInputError(f"{args.model} stores no training history; it cannot be plotted")
    plot_history(model.history, args.out)
    print(f"saved curves to {args.out}")
    return 0


def _boundary(args: argparse.Namespace) -> int:
    from ..data import load_dataset
    from ..errors import InvalidInputError, require
    from ..model import TrainConfig, train_model
    from ..plots import plot_decision_boundary
    from ..serialization import load_model
    from .model_data import train_config
    from .train import split_for_training

    require("matplotlib", "plot", "glassnet plot")
    if args.model:
        model = load_model(args.model)
        name = args.dataset or (model.data or {}).get("dataset")
        if not name:
            raise InvalidInputError(f"{args.model} does not name its data set; pass --dataset NAME")
        config = train_config(model)
    else:
        if not args.dataset:
            raise InvalidInputError("give a MODEL file, or --dataset NAME to train a quick model first")
        name = args.dataset
        config = TrainConfig(epochs=args.epochs, seed=args.seed, hidden=(32, 32), activation="tanh",
                             optimizer="adam", learning_rate=0.01)
        model = None
    dataset = load_dataset(name, seed=config.seed)
    if dataset.X.shape[1] != 2:
        raise InvalidInputError(
            f"data set {name!r} has {dataset.X.shape[1]} features; a decision boundary plot needs 2. "
            "Use moons, circles, spirals or xor"
        )
    split, _, _ = split_for_training(dataset, config)
    if model is None:
        print(f"training a quick model on {dataset.name}: hidden {','.join(map(str, config.hidden))}, "
              f"{config.optimizer}, {config.epochs} epochs")
        model = train_model(split.X_train, split.y_train, task=dataset.task, class_names=dataset.class_names,
                            config=config, feature_names=dataset.feature_names)
    plot_decision_boundary(model, split.X_train, split.y_train, args.out,
                           title=f"{dataset.name}: decision regions and training points")
    print(f"saved decision regions to {args.out}")
    return 0
