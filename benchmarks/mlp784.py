"""The 784-256-128-10 MLP on synthetic MNIST-sized data: samples per second per implementation.

Every implementation runs whole epochs over the same samples: a fresh
permutation per epoch and one gather per mini-batch (scikit-learn does the
same inside ``partial_fit``). Every network has ReLU hidden layers, softmax
cross-entropy (mean over the batch) and SGD with learning rate 0.01. The
scikit-learn comparison adds Nesterov momentum 0.9 and L2 1e-4, its
defaults, to both sides.
"""

import sys
import warnings

import numpy as np

from .harness import Candidate, alternate, median
from .reference import MatmulOnly, NumpyMLP

SIZES = [784, 256, 128, 10]
N_CLASSES = 10
LEARNING_RATE = 0.01
MOMENTUM = 0.9
L2 = 1e-4


def make_data(n_samples, dtype, seed=0):
    """Return synthetic inputs of shape (n, 784) and labels from a random linear teacher."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((SIZES[0], N_CLASSES), dtype=np.float32)
    labels = np.argmax(X @ teacher, axis=1)
    return X.astype(dtype, copy=False), labels


def one_hot(labels, dtype):
    targets = np.zeros((labels.shape[0], N_CLASSES), dtype=dtype)
    targets[np.arange(labels.shape[0]), labels] = 1
    return targets


def glassnet_epoch(X, labels, batch_size, dtype, momentum=0.0, weight_decay=0.0, nesterov=False):
    """Return a function that trains one glassnet epoch through the public ``fit``."""
    import glassnet as gn
    from glassnet.training import fit

    network = gn.mlp(SIZES, activation="relu", output="softmax", seed=0, dtype=dtype)
    optimizer = gn.SGD(learning_rate=LEARNING_RATE, momentum=momentum, nesterov=nesterov,
                       weight_decay=weight_decay)
    rng = np.random.default_rng(1)
    # One-hot targets built once, as for the NumPy reference; fit still checks X and them every call.
    targets = one_hot(labels, dtype)

    def run():
        fit(network, X, targets, loss="categorical-cross-entropy", optimizer=optimizer, epochs=1,
            batch_size=batch_size, shuffle=True, seed=rng)

    return run


def numpy_epoch(model_class, X, labels, batch_size, dtype):
    """Return a function that runs one epoch of a hand-written NumPy model."""
    model = model_class(SIZES, dtype, learning_rate=LEARNING_RATE)
    targets = one_hot(labels, dtype)
    rng = np.random.default_rng(1)
    n = X.shape[0]
    x_buffer = np.empty((batch_size, X.shape[1]), dtype=X.dtype)
    t_buffer = np.empty((batch_size, N_CLASSES), dtype=targets.dtype)

    def run():
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            size = index.shape[0]
            # mode="clip", as in glassnet's fit: the default mode gathers into a temporary array
            # first, which takes about 2.7 times as long.
            xb = np.take(X, index, axis=0, out=x_buffer[:size], mode="clip")
            tb = np.take(targets, index, axis=0, out=t_buffer[:size], mode="clip")
            model.step(xb, tb)

    return run


def torch_epoch(X, labels, batch_size, dtype):
    """Return a function that trains one PyTorch epoch: nn.Sequential, CrossEntropyLoss, optim.SGD."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    torch_dtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).to(torch_dtype)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    X_torch = torch.from_numpy(X)
    y_torch = torch.from_numpy(labels.astype(np.int64))
    generator = torch.Generator().manual_seed(1)
    n = X.shape[0]

    def run():
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            xb = X_torch[index]
            yb = y_torch[index]
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        return total

    return run


def sklearn_epoch(X, labels, batch_size):
    """Return a function that trains one scikit-learn epoch with ``partial_fit``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=tuple(SIZES[1:-1]), activation="relu", solver="sgd",
                          learning_rate_init=LEARNING_RATE, momentum=MOMENTUM, nesterovs_momentum=True,
                          alpha=L2, batch_size=batch_size, shuffle=True, random_state=0)
    classes = np.arange(N_CLASSES)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(X, labels, classes=classes)

    return run


def candidates_for(X, labels, batch_size, dtype, with_sklearn=True, with_torch=True):
    dtype_name = np.dtype(dtype).name
    common = {"batch_size": batch_size, "dtype": dtype_name}
    candidates = [
        Candidate("glassnet", glassnet_epoch(X, labels, batch_size, dtype), optimizer="sgd", **common),
        Candidate("numpy_reference", numpy_epoch(NumpyMLP, X, labels, batch_size, dtype), optimizer="sgd",
                  **common),
        Candidate("matmul_limit", numpy_epoch(MatmulOnly, X, labels, batch_size, dtype), optimizer="none",
                  **common),
    ]
    if with_sklearn:
        candidates.append(Candidate(
            "glassnet", glassnet_epoch(X, labels, batch_size, dtype, momentum=MOMENTUM, weight_decay=L2,
                                       nesterov=True),
            optimizer="sgd_nesterov_l2", **common))
        candidates.append(Candidate("sklearn", sklearn_epoch(X, labels, batch_size),
                                    optimizer="sgd_nesterov_l2", **common))
    if with_torch:
        candidates.append(Candidate("torch", torch_epoch(X, labels, batch_size, dtype), backend="torch",
                                    optimizer="sgd", **common))
    return candidates


def run(settings):
    """Measure every implementation at every batch size and dtype; return result rows."""
    rows = []
    for dtype in settings.dtypes:
        X, labels = make_data(settings.mlp_samples, dtype)
        batch_sizes = settings.float64_batch_sizes if np.dtype(dtype) == np.float64 else settings.batch_sizes
        for batch_size in batch_sizes:
            print(f"  mlp784 {np.dtype(dtype).name} batch {batch_size}", file=sys.stderr, flush=True)
            candidates = candidates_for(X, labels, batch_size, dtype)
            alternate(candidates, settings.repeats, warmup=settings.warmup)
            for candidate in candidates:
                seconds = median(candidate.seconds)
                rows.append({
                    "case": "mlp784",
                    "implementation": candidate.name,
                    "measure": "throughput",
                    **candidate.labels,
                    "samples_per_second": X.shape[0] / seconds,
                    "seconds": seconds,
                    "n_samples": X.shape[0],
                    "repeats": len(candidate.seconds),
                })
        del X, labels
    return rows
