"""``glassnet train``: train an MLP on a bundled data set or a CSV file.

Every option defaults to None so that ``TrainConfig.for_dataset`` supplies
the per-data-set default; an option given on the command line overrides it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .train_files import TrainingFiles, add_file_arguments, apply_resume

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..data import Dataset, Split
    from ..model import TrainConfig

DATASET_NAMES = "iris, wine, breast-cancer, digits, moons, circles, spirals, xor, mnist1d"


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated integers, e.g. 64,32") from exc
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: give at least one layer width, each >= 1, e.g. 64,32")
    return sizes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("The defaults suit the small bundled data sets; xor and mnist1d have their own "
                     "(glassnet.model.DATASET_DEFAULTS). Options given here override them.")
    data = parser.add_argument_group("data")
    # Not required by argparse: --resume names the data set through its checkpoint.
    source = data.add_mutually_exclusive_group()
    source.add_argument("--dataset", metavar="NAME", help=f"bundled data set: {DATASET_NAMES}")
    source.add_argument("--data", metavar="FILE.csv", help="CSV file with a header row (use with --target)")
    data.add_argument("--target", metavar="COLUMN", help="target column of --data (default: the last column)")
    data.add_argument("--task", choices=["classification", "regression"],
                      help="task of --data (default: inferred from the target column)")
    data.add_argument("--validation-fraction", type=float, metavar="F",
                      help="fraction of the samples held out for validation (default 0.1)")
    data.add_argument("--test-fraction", type=float, metavar="F",
                      help="fraction of the samples held out for the final test (default 0.2; "
                           "mnist1d has a fixed test set)")

    network = parser.add_argument_group("network")
    network.add_argument("--hidden", type=_sizes, metavar="SIZES", help="hidden layer widths, e.g. 64,32 (default 64)")
    network.add_argument("--activation", choices=["relu", "leaky_relu", "tanh", "sigmoid"],
                         help="hidden activation (default relu)")
    network.add_argument("--dtype", choices=["float32", "float64"], help="floating-point type (default float32)")

    optimization = parser.add_argument_group("optimization")
    optimization.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop"],
                              help="optimizer (default sgd with momentum 0.9)")
    optimization.add_argument("--learning-rate", type=float, metavar="LR", help="initial step size (default 0.05)")
    optimization.add_argument("--momentum", type=float, metavar="MU", help="SGD momentum (default 0.9)")
    optimization.add_argument("--nesterov", action=argparse.BooleanOptionalAction,
                              help="use Nesterov momentum with SGD")
    optimization.add_argument("--weight-decay", type=float, metavar="WD",
                              help="optimizer weight decay, decoupled for adamw (default 0)")
    optimization.add_argument("--batch-size", type=int, metavar="N", help="mini-batch size (default 32)")
    optimization.add_argument("--epochs", type=int, metavar="N", help="passes over the training split (default 60)")
    optimization.add_argument("--schedule", choices=["constant", "step", "exponential", "cosine", "plateau"],
                              help="learning-rate schedule (default constant)")
    optimization.add_argument("--warmup-epochs", type=int, metavar="N",
                              help="linear warm-up epochs of the cosine schedule (default 0)")
    optimization.add_argument("--decay", type=float, metavar="GAMMA",
                              help="learning-rate factor of the step, exponential and plateau schedules "
                                   "(default 0.1)")
    optimization.add_argument("--step-size", type=int, metavar="N",
                              help="epochs between decays of the step schedule (default 10)")
    optimization.add_argument("--clip-norm", type=float, metavar="C",
                              help="clip the global gradient norm to C (default: no clipping)")

    regularization = parser.add_argument_group("regularization and stopping")
    regularization.add_argument("--l2", type=float, metavar="LAMBDA",
                                help="L2 penalty ½·λ·Σ||W||² added to the loss (default 0.001; 0 turns it off)")
    regularization.add_argument("--dropout", type=float, metavar="P",
                                help="dropout rate after each hidden activation (default 0)")
    regularization.add_argument("--early-stopping", action=argparse.BooleanOptionalAction,
                                help="stop when the validation loss stops improving and keep the best weights")
    regularization.add_argument("--patience", type=int, metavar="N",
                                help="epochs without improvement before early stopping (default 10)")
    regularization.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps")
    regularization.add_argument("--max-seconds", type=float, metavar="S", help="stop after S seconds of training")
    regularization.add_argument("--seed", type=int,
                                help="seed of the split, the initial weights, dropout and the shuffling (default 0)")
    add_file_arguments(parser)


# Command-line option name -> TrainConfig field, for options that map one to one.
CONFIG_OPTIONS = ("hidden", "activation", "dtype", "optimizer", "learning_rate", "momentum", "nesterov",
                  "weight_decay", "batch_size", "epochs", "schedule", "warmup_epochs", "decay", "step_size",
                  "clip_norm", "l2", "dropout", "early_stopping", "patience", "max_steps", "max_seconds", "seed",
                  "validation_fraction", "test_fraction")


def config_from_args(args: argparse.Namespace, dataset_name: str | None) -> TrainConfig:
    """Return the TrainConfig of ``dataset_name`` with the options given on the command line applied."""
    from ..errors import InvalidInputError
    from ..model import TrainConfig

    overrides = {name: getattr(args, name) for name in CONFIG_OPTIONS if getattr(args, name, None) is not None}
    # A CSV file has no per-data-set defaults, and no data set is named "".
    config = TrainConfig.for_dataset(dataset_name or "", **overrides)
    # A resumed run takes every setting from its checkpoint, momentum included.
    if config.optimizer != "sgd" and not getattr(args, "resume", None):
        for option, value in (("--momentum", args.momentum), ("--nesterov", args.nesterov)):
            if value is not None:
                raise InvalidInputError(
                    f"{option} applies only to --optimizer sgd, but the optimizer is {config.optimizer}; "
                    f"drop {option} or use --optimizer sgd"
                )
    return config


def load_training_data(args: argparse.Namespace) -> Dataset:
    """Return the Dataset named by ``--dataset`` or read from ``--data``, or raise."""
    from ..data import load_csv, load_dataset
    from ..errors import InvalidInputError

    if args.dataset is None and args.data is None:
        raise InvalidInputError("no data given; pass --dataset NAME, --data FILE.csv or --resume CHECKPOINT")
    if args.dataset is not None:
        for option, value in (("--target", args.target), ("--task", args.task)):
            if value is not None:
                raise InvalidInputError(f"{option} applies to --data FILE.csv only; bundled data sets have a fixed "
                                        "target and task")
        return load_dataset(args.dataset, seed=args.seed if args.seed is not None else 0)
    return load_csv(args.data, target=args.target, task=args.task)


def split_for_training(dataset: Dataset, config: TrainConfig) -> tuple[Split, NDArray[Any], NDArray[Any]]:
    """Return ``(split, X_test, y_test)``: train/validation parts and the test data.

    A data set with a published test set (mnist1d) keeps it, and its training
    samples are split into train and validation only. With ``test_fraction``
    0 (xor) the test data is empty.
    """
    from ..data import split_dataset
    from ..errors import InvalidInputError

    if dataset.y is None:
        raise InvalidInputError(
            f"data set {dataset.name!r} has no target column; training and evaluation need one target per sample"
        )
    # Dataset checks that X_test and y_test are both arrays or both None.
    if dataset.X_test is not None and dataset.y_test is not None:
        split = split_dataset(dataset.X, dataset.y, test_fraction=0.0,
                              validation_fraction=config.validation_fraction, seed=config.seed)
        return split, dataset.X_test, dataset.y_test
    split = split_dataset(dataset.X, dataset.y, test_fraction=config.test_fraction,
                          validation_fraction=config.validation_fraction, seed=config.seed)
    return split, split.X_test, split.y_test


def data_source(args: argparse.Namespace, dataset: Dataset) -> dict[str, str]:
    """Return where the training data came from, stored in models and checkpoints."""
    import os

    if args.dataset is not None:
        return {"dataset": dataset.name}
    # load_csv always stores the schema it used or made.
    assert dataset.schema is not None
    return {"csv": os.path.abspath(args.data), "target": dataset.schema.target, "task": dataset.task}


def run(args: argparse.Namespace) -> int:
    from ..model import train_model

    checkpoint = apply_resume(args)
    dataset = load_training_data(args)
    config = config_from_args(args, dataset.name if args.dataset is not None else None)
    split, X_test, y_test = split_for_training(dataset, config)
    classification = dataset.task == "classification"
    print(f"data set {dataset.name}: {len(split.X_train)} train, {len(split.X_val)} validation, "
          f"{len(X_test)} test samples, {dataset.X.shape[1]} features"
          + (f", {dataset.n_classes} classes" if classification else ", regression"))

    schema = dataset.schema.to_dict() if dataset.schema is not None else None
    files = TrainingFiles(args, config.to_dict(), data_source(args, dataset))
    try:
        model = train_model(split.X_train, split.y_train, task=dataset.task, class_names=dataset.class_names,
                            config=config, validation=(split.X_val, split.y_val),
                            feature_names=dataset.feature_names, callbacks=files.callbacks(), schema=schema,
                            resume=checkpoint)
    finally:
        files.close()
    if files.interrupted:
        return 130

    if len(X_test):
        X_report, y_report, part = X_test, y_test, "test"
    else:
        X_report, y_report, part = split.X_train, split.y_train, "training"
        print("no test split (test fraction 0): reporting on the training samples")
    report = model.evaluate(X_report, y_report)
    if classification:
        print(f"{part} accuracy {report['accuracy']:.4f} on {len(X_report)} samples")
    else:
        print(f"{part} mse {report['mse']:.5f}  mae {report['mae']:.5f}  r2 {report['r2']:.4f}")
    files.write(model)
    return 0
