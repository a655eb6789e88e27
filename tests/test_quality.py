"""Quality targets of the default settings of ``glassnet train`` (seed 0, the CLI's test split).

Each target trains with exactly the defaults of ``glassnet train --dataset NAME``
and checks the test accuracy; docs/quality.md records the figures.
"""

import warnings

import pytest

from glassnet.cli.main import main
from glassnet.cli.train import split_for_training
from glassnet.data import Standardizer, load_dataset
from glassnet.model import TrainConfig, train_model

SEED = 0


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Use one BLAS thread: the suite runs two pytest workers on two cores, and more threads contend."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def train_with_defaults(name):
    """Train like ``glassnet train --dataset NAME``; return (config, split, test accuracy)."""
    dataset = load_dataset(name, seed=SEED)
    config = TrainConfig.for_dataset(name, seed=SEED)
    split, X_test, y_test = split_for_training(dataset, config)
    model = train_model(split.X_train, split.y_train, task=dataset.task, class_names=dataset.class_names,
                        config=config, validation=(split.X_val, split.y_val))
    return config, split, X_test, y_test, model.evaluate(X_test, y_test)["accuracy"]


def sklearn_accuracy(config, split, X_test, y_test):
    """Test accuracy of scikit-learn's MLPClassifier with its defaults, the same hidden sizes, split and seed."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    scaler = Standardizer().fit(split.X_train)
    classifier = MLPClassifier(hidden_layer_sizes=config.hidden, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(scaler.transform(split.X_train), split.y_train)
    return classifier.score(scaler.transform(X_test), y_test)


@pytest.mark.parametrize(("name", "minimum"), [("iris", 0.9), ("wine", 0.95), ("breast-cancer", 0.95),
                                               ("digits", 0.975)])
def test_default_training_matches_sklearn(name, minimum):
    config, split, X_test, y_test, accuracy = train_with_defaults(name)
    reference = sklearn_accuracy(config, split, X_test, y_test)
    assert accuracy >= reference, f"{name}: glassnet {accuracy:.4f} < scikit-learn {reference:.4f}"
    assert accuracy >= minimum


def test_cli_breast_cancer_reaches_095(capsys):
    assert main(["train", "--dataset", "breast-cancer"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy >= 0.95


def test_mnist1d_default_reaches_068():
    _, _, _, _, accuracy = train_with_defaults("mnist1d")
    assert accuracy >= 0.68
