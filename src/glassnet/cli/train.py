"""``glassnet train``: train an MLP on a bundled data set from the command line."""


def _sizes(text):
    import argparse

    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated integers, e.g. 64,32") from exc
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: every layer width must be >= 1")
    return sizes


def add_arguments(parser):
    from ..model import TrainConfig

    defaults = TrainConfig()
    parser.add_argument("--dataset", required=True, metavar="NAME",
                        help="bundled data set: iris, wine, breast-cancer, digits, moons, circles, spirals, xor, mnist1d")
    parser.add_argument("--hidden", type=_sizes, default=defaults.hidden, metavar="SIZES",
                        help=f"hidden layer widths, comma-separated (default {','.join(map(str, defaults.hidden))})")
    parser.add_argument("--activation", default=defaults.activation, help="hidden activation (default relu)")
    parser.add_argument("--optimizer", default=defaults.optimizer, help="sgd, adam, adamw or rmsprop (default sgd)")
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate, metavar="LR",
                        help=f"step size (default {defaults.learning_rate})")
    parser.add_argument("--momentum", type=float, default=defaults.momentum,
                        help=f"SGD momentum (default {defaults.momentum})")
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="L2 weight decay (default 0)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, metavar="N",
                        help=f"mini-batch size (default {defaults.batch_size})")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, metavar="N",
                        help=f"passes over the training split (default {defaults.epochs})")
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="seed of the split, the initial weights and the shuffling (default 0)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default=defaults.dtype,
                        help="floating-point type of the network (default float32)")


def run(args):
    from ..data import load_dataset, split_dataset
    from ..model import TrainConfig, train_model
    from ..progress import PlainProgress

    config = TrainConfig(hidden=args.hidden, activation=args.activation, optimizer=args.optimizer,
                         learning_rate=args.learning_rate, momentum=args.momentum, weight_decay=args.weight_decay,
                         batch_size=args.batch_size, epochs=args.epochs, seed=args.seed, dtype=args.dtype)
    dataset = load_dataset(args.dataset, seed=args.seed)
    classification = dataset.task == "classification"
    if dataset.X_test is not None:
        split = split_dataset(dataset.X, dataset.y, test_fraction=0.0,
                              validation_fraction=config.validation_fraction, seed=args.seed)
        X_test, y_test = dataset.X_test, dataset.y_test
    else:
        split = split_dataset(dataset.X, dataset.y, test_fraction=config.test_fraction,
                              validation_fraction=config.validation_fraction, seed=args.seed)
        X_test, y_test = split.X_test, split.y_test
    print(f"data set {dataset.name}: {len(split.X_train)} train, {len(split.X_val)} validation, "
          f"{len(X_test)} test samples, {dataset.X.shape[1]} features"
          + (f", {len(dataset.class_names)} classes" if classification else ""))
    model = train_model(split.X_train, split.y_train, task=dataset.task, class_names=dataset.class_names,
                        config=config, validation=(split.X_val, split.y_val), feature_names=dataset.feature_names,
                        callbacks=[PlainProgress()])
    report = model.evaluate(X_test, y_test)
    if classification:
        print(f"test accuracy {report['accuracy']:.4f} on {len(X_test)} samples")
    else:
        print(f"test mse {report['mse']:.5f}  mae {report['mae']:.5f}  r2 {report['r2']:.4f}")
    return 0
