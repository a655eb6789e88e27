"""Wall time to reach 0.975 test accuracy on scikit-learn's digits, glassnet beside MLPClassifier.

Both sides train the same network and optimizer: 64-128-10, ReLU, softmax
cross-entropy, Adam (learning rate 0.002, L2 1e-4, scikit-learn's default
solver), batch 32, Glorot-uniform initial weights, float32 inputs
standardised with the training split's statistics. After each epoch the
test accuracy is measured, and the clock stops at the first epoch reaching
the target. Which epoch that is depends on the seed, so each repetition uses
a new seed for the split, the initial weights and the shuffling, the same
seed on both sides, and the suite reports the medians.
"""

import time
import warnings

import numpy as np

from .harness import median

TARGET_ACCURACY = 0.975
HIDDEN = 128
LEARNING_RATE = 0.002
L2 = 1e-4
BATCH_SIZE = 32


def load_split(seed):
    """Return standardised float32 train and test arrays of the digits, split 75/25 stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    mean = X_train.mean(axis=0)
    scale = X_train.std(axis=0)
    scale[scale == 0] = 1.0
    X_train = ((X_train - mean) / scale).astype(np.float32)
    X_test = ((X_test - mean) / scale).astype(np.float32)
    return X_train, X_test, y_train, y_test


def glassnet_time_to_target(split, seed, max_epochs):
    """Return (seconds, epochs, accuracy) for glassnet to reach the target."""
    import glassnet as gn
    from glassnet.training import Callback, fit

    X_train, X_test, y_train, y_test = split
    started = time.perf_counter()
    network = gn.mlp([X_train.shape[1], HIDDEN, 10], activation="relu", output="softmax", seed=seed,
                     init="glorot_uniform", dtype="float32")
    optimizer = gn.Adam(learning_rate=LEARNING_RATE, weight_decay=L2)

    class StopAtTarget(Callback):
        accuracy = 0.0

        def on_epoch_end(self, state):
            predicted = np.argmax(network.predict(X_test), axis=1)
            self.accuracy = float(np.mean(predicted == y_test))
            if self.accuracy >= TARGET_ACCURACY:
                state.stop_reason = "reached the target accuracy"

    stopper = StopAtTarget()
    history = fit(network, X_train, y_train, loss="categorical-cross-entropy", optimizer=optimizer,
                  epochs=max_epochs, batch_size=BATCH_SIZE, shuffle=True, seed=seed, callbacks=[stopper])
    return time.perf_counter() - started, len(history), stopper.accuracy


def sklearn_time_to_target(split, seed, max_epochs):
    """Return (seconds, epochs, accuracy) for MLPClassifier to reach the target."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X_train, X_test, y_train, y_test = split
    classes = np.arange(10)
    started = time.perf_counter()
    model = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", solver="adam",
                          learning_rate_init=LEARNING_RATE, alpha=L2, batch_size=BATCH_SIZE, shuffle=True,
                          random_state=seed)
    accuracy = 0.0
    epochs = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epochs in range(1, max_epochs + 1):
            model.partial_fit(X_train, y_train, classes=classes)
            accuracy = float(model.score(X_test, y_test))
            if accuracy >= TARGET_ACCURACY:
                break
    return time.perf_counter() - started, epochs, accuracy


def run(settings):
    """Time both libraries on ``settings.repeats`` seeds, alternating who goes first; return rows."""
    runners = {"glassnet": glassnet_time_to_target, "sklearn": sklearn_time_to_target}
    results = {name: [] for name in runners}
    names = list(runners)
    for seed in range(settings.repeats):
        split = load_split(seed)
        order = names if seed % 2 == 0 else names[::-1]
        for name in order:
            results[name].append(runners[name](split, seed, settings.digits_max_epochs))
    rows = []
    for name, runs in results.items():
        reached = [run for run in runs if run[2] >= TARGET_ACCURACY]
        rows.append({
            "case": "digits_to_0975",
            "implementation": name,
            "measure": "time_to_accuracy",
            "batch_size": BATCH_SIZE,
            "dtype": "float32",
            "optimizer": "adam_l2",
            "seconds": median([run[0] for run in runs]),
            "epochs": median([run[1] for run in runs]),
            "seconds_per_epoch": median([run[0] / run[1] for run in runs]),
            "reached": f"{len(reached)}/{len(runs)}",
            "repeats": len(runs),
        })
    return rows
