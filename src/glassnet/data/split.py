"""Seeded train, validation and test splits, stratified for class labels."""

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidInputError, InvalidTypeError
from ._checks import check_seed


@dataclass
class Split:
    """Train, validation and test parts of a dataset.

    A part whose fraction is 0 has 0 rows (``X_val.shape == (0, n_features)``).
    The ``*_indices`` arrays give the rows of the original ``X`` and ``y``
    in each part, in the order of that part.
    """

    X_train: NDArray[Any]
    y_train: NDArray[Any]
    X_val: NDArray[Any]
    y_val: NDArray[Any]
    X_test: NDArray[Any]
    y_test: NDArray[Any]
    train_indices: NDArray[np.intp]
    val_indices: NDArray[np.intp]
    test_indices: NDArray[np.intp]


def split_dataset(
    X: ArrayLike,
    y: ArrayLike,
    *,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.0,
    stratify: bool | None = None,
    seed: int = 0,
) -> Split:
    """Shuffle and split samples into train, validation and test parts.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    test_fraction : float, default 0.2
        Fraction of all samples in the test part, in [0, 1). The count is
        rounded up, so a positive fraction gives at least one test sample.
    validation_fraction : float, default 0.0
        Fraction of all samples (not of the remainder) in the validation
        part, in [0, 1), rounded up like ``test_fraction``.
    stratify : bool or None, default None
        Keep the class proportions of ``y`` in every part. None means True
        when ``y`` is 1-D with an integer or bool dtype (class labels) and
        False otherwise.
    seed : int, default 0
        Seed of the ``np.random.Generator`` that shuffles. The global
        ``np.random`` state is neither used nor changed.

    Returns
    -------
    Split
        Copies of the rows of ``X`` and ``y`` for each part, and their indices.

    Notes
    -----
    Stratified counts per class are ``n_part * n_class / n_samples`` rounded
    by the largest remainder method, so every part's total is exact and each
    class count is within one of its proportional share.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    _check_shapes(X, y)
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    validation_fraction = _check_fraction(validation_fraction, "validation_fraction")
    if test_fraction + validation_fraction >= 1.0:
        raise InvalidInputError(
            f"test_fraction={test_fraction} plus validation_fraction={validation_fraction} "
            "is at least 1, which leaves no training samples; make their sum less than 1"
        )
    seed = check_seed(seed)
    stratify = _resolve_stratify(stratify, y)

    n_samples = X.shape[0]
    n_test = math.ceil(test_fraction * n_samples)
    n_val = math.ceil(validation_fraction * n_samples)
    if n_samples - n_test - n_val < 1:
        raise InvalidInputError(
            f"X has {n_samples} samples; test_fraction={test_fraction} takes {n_test} and "
            f"validation_fraction={validation_fraction} takes {n_val}, which leaves no "
            "training samples. Use smaller fractions or more samples"
        )

    rng = np.random.default_rng(seed)
    if stratify:
        train, val, test = _stratified_indices(y, n_test, n_val, rng)
    else:
        order = rng.permutation(n_samples)
        test = order[:n_test]
        val = order[n_test:n_test + n_val]
        train = order[n_test + n_val:]

    return Split(
        X_train=X[train],
        y_train=y[train],
        X_val=X[val],
        y_val=y[val],
        X_test=X[test],
        y_test=y[test],
        train_indices=train,
        val_indices=val,
        test_indices=test,
    )


def _check_shapes(X: NDArray[Any], y: NDArray[Any]) -> None:
    if X.ndim != 2:
        raise InvalidInputError(
            f"X has shape {X.shape}; expected a 2-D array (n_samples, n_features). "
            "Reshape it, e.g. X.reshape(len(X), -1)"
        )
    if y.ndim not in (1, 2):
        raise InvalidInputError(
            f"y has shape {y.shape}; expected (n_samples,) or (n_samples, n_outputs)"
        )
    if y.shape[0] != X.shape[0]:
        raise InvalidInputError(
            f"X has {X.shape[0]} samples but y has {y.shape[0]}; give one target per sample"
        )
    if X.shape[0] < 2:
        raise InvalidInputError(
            f"X has {X.shape[0]} samples; splitting needs at least 2"
        )


def _check_fraction(value: object, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(
            f"{argument}={value!r} has type {type(value).__name__}; expected a number in [0, 1)"
        )
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise InvalidInputError(
            f"{argument}={value} is outside [0, 1); give a fraction such as 0.2"
        )
    return value


def _resolve_stratify(stratify: object, y: NDArray[Any]) -> bool:
    is_labels = y.ndim == 1 and y.dtype.kind in "biu"
    if stratify is None:
        return is_labels
    if not isinstance(stratify, bool):
        raise InvalidTypeError(
            f"stratify={stratify!r} has type {type(stratify).__name__}; "
            "expected True, False or None"
        )
    if stratify and not is_labels:
        raise InvalidInputError(
            f"stratify=True needs 1-D integer class labels, but y has shape {y.shape} and "
            f"dtype {y.dtype}; pass stratify=False or integer labels"
        )
    return stratify


def _stratified_indices(
    y: NDArray[Any], n_test: int, n_val: int, rng: np.random.Generator
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Return (train, val, test) index arrays with class proportions kept."""
    classes, class_of_sample = np.unique(y, return_inverse=True)
    class_counts = np.bincount(class_of_sample, minlength=len(classes))

    # Test counts first, then validation counts from what each class has left.
    test_counts = _allocate(n_test, class_counts, class_counts)
    val_counts = _allocate(n_val, class_counts, class_counts - test_counts)

    train_parts = []
    val_parts = []
    test_parts = []
    for label in range(len(classes)):
        members = rng.permutation(np.flatnonzero(class_of_sample == label))
        n_class_test = test_counts[label]
        n_class_val = val_counts[label]
        test_parts.append(members[:n_class_test])
        val_parts.append(members[n_class_test:n_class_test + n_class_val])
        train_parts.append(members[n_class_test + n_class_val:])

    # Mix the classes within each part.
    train = rng.permutation(np.concatenate(train_parts))
    val = rng.permutation(np.concatenate(val_parts))
    test = rng.permutation(np.concatenate(test_parts))
    return train, val, test


def _allocate(
    total: int, weights: NDArray[np.intp], capacity: NDArray[np.intp]
) -> NDArray[np.int64]:
    """Split ``total`` into integer counts proportional to ``weights``, each at most ``capacity``.

    Largest remainder method: every class gets the floor of its share, and
    the units left go one each to the classes with the largest fractional
    parts (lowest class first on ties) that still have capacity. The caller
    guarantees ``total <= capacity.sum()``.
    """
    shares = total * weights / weights.sum()
    counts: NDArray[np.int64] = np.minimum(np.floor(shares).astype(np.int64), capacity)
    remainders = shares - np.floor(shares)
    order = np.argsort(-remainders, kind="stable")
    left = total - int(counts.sum())
    while left > 0:
        for label in order:
            if left == 0:
                break
            if counts[label] < capacity[label]:
                counts[label] += 1
                left -= 1
    return counts
