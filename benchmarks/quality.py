"""Test accuracy of ``glassnet train`` defaults beside scikit-learn's MLPClassifier, as a Markdown table.

Usage::

    python benchmarks/quality.py --datasets iris,wine,breast-cancer,digits,mnist1d --seeds 0,1,2

For each data set and seed, glassnet trains exactly as ``glassnet train
--dataset NAME --seed SEED`` does. MLPClassifier gets its own defaults with
the same hidden layer sizes, random_state, training split (standardised with
the training statistics) and test data; it does not see the validation part.
"""

import argparse
import time
import warnings

import numpy as np

from glassnet.cli.train import split_for_training
from glassnet.data import Standardizer, load_dataset
from glassnet.model import TrainConfig, train_model


def measure(name, seed, sklearn=True):
    """Return (glassnet accuracy, glassnet seconds, sklearn accuracy or None) for one data set and seed."""
    dataset = load_dataset(name, seed=seed)
    config = TrainConfig.for_dataset(name, seed=seed)
    split, X_test, y_test = split_for_training(dataset, config)
    started = time.perf_counter()
    model = train_model(split.X_train, split.y_train, task=dataset.task, class_names=dataset.class_names,
                        config=config, validation=(split.X_val, split.y_val))
    seconds = time.perf_counter() - started
    accuracy = model.evaluate(X_test, y_test)["accuracy"]
    if not sklearn:
        return accuracy, seconds, None

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    scaler = Standardizer().fit(split.X_train)
    classifier = MLPClassifier(hidden_layer_sizes=config.hidden, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(scaler.transform(split.X_train), split.y_train)
    return accuracy, seconds, classifier.score(scaler.transform(X_test), y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="iris,wine,breast-cancer,digits,mnist1d")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--no-sklearn", action="store_true", help="train glassnet only")
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print("| data set | seed | glassnet test accuracy | scikit-learn MLPClassifier | glassnet training time (s) |")
    print("|---|---|---|---|---|")
    for name in args.datasets.split(","):
        results = []
        for seed in seeds:
            accuracy, seconds, reference = measure(name, seed, sklearn=not args.no_sklearn)
            results.append((accuracy, reference))
            shown = "" if reference is None else f"{reference:.4f}"
            print(f"| {name} | {seed} | {accuracy:.4f} | {shown} | {seconds:.1f} |", flush=True)
        if len(seeds) > 1:
            mean = np.mean([accuracy for accuracy, _ in results])
            reference_mean = "" if args.no_sklearn else f"{np.mean([ref for _, ref in results]):.4f}"
            print(f"| {name} | mean | {mean:.4f} | {reference_mean} | |", flush=True)


if __name__ == "__main__":
    main()
